"""The C++ kernels (see cpp/*.hpp for each one's contract).

Two builds of the same source ship with fastmf: ``_core_portable`` (baseline flags) and,
on x86-64, ``_core_avx2`` (AVX2 + FMA). The second is used when the CPU supports it; set
the environment variable ``FASTMF_KERNELS=portable`` before import to force the first.
``variant`` says which one is in use.
"""
import os

from . import _core_portable


def _select():
    if os.environ.get("FASTMF_KERNELS", "auto") != "portable" and _core_portable.cpu_has_avx2_fma():
        try:
            from . import _core_avx2
            return "avx2", _core_avx2
        except ImportError:          # built without it (FASTMF_NATIVE, non-x86 compilers)
            pass
    return "portable", _core_portable


variant, _kernels = _select()
globals().update({name: getattr(_kernels, name) for name in dir(_kernels)
                  if not name.startswith("__")})
