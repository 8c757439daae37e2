from feeds.cli import run

run()
