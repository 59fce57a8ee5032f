"""Architecture parameters (NOVA-NRE.md §1-2, §7; WIRE.md §1). Nothing else hard-codes 8."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PAGE_SIZE", "X86_32", "X86_64", "Arch"]

PAGE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Arch:
    name: str
    word: int  # bytes per word
    sel_bits: int  # object space has 2**sel_bits selectors (HIP cfg_cap)
    user_addr: int  # first address that is not user space

    @property
    def page_words(self) -> int:
        """Words in one UTCB page (W)."""
        return PAGE_SIZE // self.word

    @property
    def msg_words(self) -> int:
        """Untyped+typed words after the 5-word header: 507 (x86_64) or 1019 (x86_32)."""
        return self.page_words - 5

    @property
    def word_mask(self) -> int:
        return (1 << (8 * self.word)) - 1

    @property
    def selectors(self) -> int:
        return 1 << self.sel_bits


X86_64 = Arch("x86_64", 8, 26, 0x7FFFFFFFF000)
X86_32 = Arch("x86_32", 4, 27, 0xC0000000)
