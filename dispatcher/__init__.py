"""The deploy dispatcher: pushed stage tags to deployment jobs."""
