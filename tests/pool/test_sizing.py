"""Worker counts: one per core, fewer where memory runs out first, a setting over both; cgroup limits read."""

from __future__ import annotations

from pathlib import Path

from mivaa_pool import available_cores, available_memory_bytes, count_workers
from mivaa_pool._sizing import _cgroup_cpu_quota, _cgroup_headroom

MIB = 1 << 20
GIB = 1 << 30


def test_cores_decide_where_memory_is_plenty():
    count = count_workers(160 * MIB, cores=4, available_bytes=32 * GIB)
    assert (count.workers, count.limited_by) == (4, "cores")


def test_memory_decides_where_it_holds_fewer_workers_than_cores():
    # 2 GiB available, a quarter kept back: 1.5 GiB holds two 660 MiB workers, not sixteen.
    count = count_workers(660 * MIB, cores=16, available_bytes=2 * GIB)
    assert (count.workers, count.limited_by) == (2, "memory")
    assert count.fields() == {
        "workers": 2,
        "cores": 16,
        "available_mib": 2048,
        "per_worker_mib": 660,
        "limited_by": "memory",
    }


def test_at_least_one_worker_and_the_setting_wins():
    assert count_workers(660 * MIB, cores=8, available_bytes=100 * MIB).workers == 1
    setting = count_workers(660 * MIB, requested=6, cores=2, available_bytes=100 * MIB)
    assert (setting.workers, setting.limited_by) == (6, "setting")


def test_unknown_memory_leaves_the_cores():
    count = count_workers(660 * MIB, cores=3, available_bytes=None)
    assert count.workers in (1, 2, 3)  # None means "read it now", which this host answers


def test_this_host_is_read():
    assert available_cores() >= 1
    available = available_memory_bytes()
    assert available is None or available > 0


def test_cgroup_limits_are_read(tmp_path: Path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text(f"{2 * GIB}\n")
    (v2 / "memory.current").write_text(f"{512 * MIB}\n")
    (v2 / "cpu.max").write_text("150000 100000\n")
    assert _cgroup_headroom(v2) == 2 * GIB - 512 * MIB
    assert _cgroup_cpu_quota(v2) == 2
    unlimited = tmp_path / "unlimited"
    unlimited.mkdir()
    (unlimited / "memory.max").write_text("max\n")
    (unlimited / "cpu.max").write_text("max 100000\n")
    assert _cgroup_headroom(unlimited) is None and _cgroup_cpu_quota(unlimited) is None
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "cpu").mkdir()
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (v1 / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert _cgroup_headroom(v1) is None and _cgroup_cpu_quota(v1) is None
    (v1 / "memory" / "memory.limit_in_bytes").write_text(f"{GIB}\n")
    (v1 / "memory" / "memory.usage_in_bytes").write_text(f"{256 * MIB}\n")
    (v1 / "cpu" / "cpu.cfs_quota_us").write_text("400000\n")
    assert _cgroup_headroom(v1) == GIB - 256 * MIB and _cgroup_cpu_quota(v1) == 4
