"""The load bench's timeline: latencies and CPU shares per window, from the samples it collects."""

from __future__ import annotations

import math
import os

from bench.load_timeline import cpu_share, timeline
from bench.process_rss import process_cpu_seconds


def test_cpu_share_is_cores_used_between_the_samples_around_a_window():
    samples = [(0.0, 10.0), (5.0, 15.0), (10.0, 17.5), (15.0, 20.0)]
    assert cpu_share(samples, 0, 10) == 0.75  # 7.5 CPU seconds over 10 s
    assert cpu_share(samples, 5, 15) == 0.5
    assert cpu_share(samples, 0, 2) == 0.0  # one sample: no interval to measure
    assert cpu_share(samples[1:], 0, 15) == 0.5  # from the first sample when the window starts before it
    assert cpu_share([(0.0, 30.0), (5.0, 1.0)], 0, 5) == 0.0  # a restarted process counts from zero


def test_timeline_puts_each_call_in_the_window_it_ended_in():
    start = 100.0
    finished = [start + 1, start + 2, start + 61, start + 62, start + 63]
    latencies = [10.0, 20.0, 200.0, 300.0, 400.0]
    cpu = {"idle": [(0.1, 0.0), (120.0, 0.0)], "busy": [(0.1, 0.0), (60.0, 90.0), (120.0, 120.0)]}
    header, first, second, whole = timeline(finished, latencies, cpu, start=start, elapsed=120, window=60)
    assert header.split()[-2:] == ["busy", "idle"]  # the busiest process first
    assert first.split() == ["0", "2", "10.0", "20.0", "20.0", "150", "0"]
    assert second.split() == ["60", "3", "300.0", "400.0", "400.0", "50", "0"]
    assert whole.split() == ["all", "5", "200.0", "400.0", "400.0", "100", "0"]
    assert math.isnan(float(timeline([], [], {}, start=0, elapsed=1, window=1)[1].split()[2]))


def test_process_cpu_seconds_counts_this_process_and_is_zero_for_an_ended_one():
    sum(i * i for i in range(200_000))
    assert process_cpu_seconds(os.getpid()) > 0
    assert process_cpu_seconds(2**22 + 12345) == 0.0
