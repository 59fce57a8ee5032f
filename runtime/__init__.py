"""runtime: an emulation of the NOVA microhypervisor's IPC that generated stubs run on."""
