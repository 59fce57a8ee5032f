"""``import idlc.autoload``: from now on ``import x_idl`` loads ``x.idl`` from a folder of
``sys.path`` (`idlc.install_import_hook()` with its defaults)."""

from idlc.importhook import install_import_hook

install_import_hook()
