"""Give back the zygote's startup-only pages of code and constants once the app is imported.

Importing an app runs code that nothing runs again: the bytecode compiler, the import machinery,
extension modules' init functions. The kernel maps file pages in 64 KB runs, so about 3 MiB of them
stay resident in the zygote, mapped by no other process, after the workers are forked. Dropping the
zygote's page-table entries for its read-only file mappings (the pages stay in the page cache) gives
that back; the few pages the zygote's loop uses fault back in. Workers do not inherit anything from
this: they map code lazily after fork either way.

Only mappings that cannot hold a changed page are dropped: not writable, and no private copies (a
relocated page would be one, and dropping it would lose the relocation).
"""

MADV_DONTNEED = 4


def droppable_ranges(smaps_text):
    """[(start, length)] of read-only file mappings without anonymous (changed) pages."""
    ranges = []
    current = None
    for line in smaps_text.splitlines():
        fields = line.split()
        if not fields:
            continue
        if not fields[0].endswith(":"):
            # A mapping's header: "start-end perms offset dev inode [path]"
            current = None
            if len(fields) >= 6 and fields[5].startswith("/") and fields[1][0] == "r" and fields[1][1] == "-":
                start, _, end = fields[0].partition("-")
                current = (int(start, 16), int(end, 16) - int(start, 16))
        elif fields[0] == "Anonymous:" and current is not None:
            if fields[1] == "0":
                ranges.append(current)
            current = None
    return ranges


def drop_startup_pages():
    """Best effort: without ctypes or /proc the pages simply stay."""
    try:
        import ctypes

        with open("/proc/self/smaps") as f:
            text = f.read()
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (ImportError, OSError, AttributeError):
        return
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    for start, length in droppable_ranges(text):
        madvise(start, length, MADV_DONTNEED)
