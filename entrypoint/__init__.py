"""Every way into stagetag: the command line, and (later) the CI action entrypoint."""
