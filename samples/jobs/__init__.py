"""The job service (jobs.idl, main.py): capabilities from a client to a server."""
