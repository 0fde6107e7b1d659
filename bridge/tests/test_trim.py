"""drop_startup_pages: the zygote's read-only file pages are given back, changed pages never."""

import json
import os
import subprocess
import sys
import textwrap

from tapster_bridge.trim import droppable_ranges


def mapping(header, anonymous_kb):
    return f"{header}\nSize:  7252 kB\nRss:  6248 kB\nAnonymous:  {anonymous_kb} kB\nVmFlags: rd ex mr mw me\n"


def test_read_only_file_mappings_without_changed_pages_are_dropped():
    text = mapping("7f0c37844000-7f0c37978000 r-xp 00014000 fe:00 42  /usr/lib/libpython3.11.so.1.0", 0) + mapping(
        "7f0c37978000-7f0c37990000 r--p 00134000 fe:00 42  /usr/lib/libpython3.11.so.1.0", 0)

    assert droppable_ranges(text) == [(0x7F0C37844000, 0x134000), (0x7F0C37978000, 0x18000)]


def test_writable_anonymous_relocated_and_special_mappings_are_kept():
    text = "".join([
        mapping("7f0c37990000-7f0c379a0000 rw-p 00150000 fe:00 42  /usr/lib/libpython3.11.so.1.0", 0),
        mapping("7f0c379a0000-7f0c379b0000 r--p 00160000 fe:00 42  /usr/lib/libpython3.11.so.1.0", 8),
        mapping("7f0c379b0000-7f0c379c0000 ---p 00000000 00:00 0", 0),
        mapping("7f0c379c0000-7f0c379d0000 r--p 00000000 00:00 0", 0),
        mapping("7ffd1f1e4000-7ffd1f1e8000 r--p 00000000 00:00 0  [vvar]", 0),
    ])

    assert droppable_ranges(text) == []


def test_a_mapping_without_its_own_anonymous_line_is_kept():
    text = "7f0c37844000-7f0c37978000 r-xp 00014000 fe:00 42  /usr/lib/libc.so.6\nVmFlags: rd ex\n" + mapping(
        "7f0c37990000-7f0c379a0000 rw-p 00000000 00:00 0", 0)

    assert droppable_ranges(text) == []


def test_a_process_that_drops_its_pages_runs_on_and_is_smaller():
    script = textwrap.dedent("""
        import json, sys
        from tapster_bridge.trim import drop_startup_pages

        def resident():
            total, counting = 0, False
            for line in open("/proc/self/smaps"):
                fields = line.split()
                if fields and not fields[0].endswith(":"):
                    counting = len(fields) >= 6 and fields[5].startswith("/") and fields[1][1] == "-"
                elif counting and fields[0] == "Rss:":
                    total += int(fields[1])
            return total

        before = resident()
        drop_startup_pages()
        print(json.dumps([before, resident(), sum(range(1000))]))
    """)
    bridge = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ, PYTHONPATH=bridge), check=True).stdout
    before, after, work = json.loads(out)
    assert work == 499500
    # What the interpreter runs next (this very code) comes straight back; the rest stays out.
    assert after < before * 0.75, (before, after)
