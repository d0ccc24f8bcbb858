"""``python -m wholecomm.data``: validate the data in use and print a summary."""

if __name__ == "__main__":
    from .loading import main

    raise SystemExit(main())
