"""berth up and its API process keep the garbage collector off their start-up heap."""

import gc

import pytest

from berth.platform.interpreter import freeze_startup_heap


@pytest.fixture
def restored():
    yield
    gc.unfreeze()


def test_objects_alive_at_start_up_are_frozen_and_later_ones_are_not(restored):
    kept = [{"informer": i} for i in range(1000)]
    frozen = freeze_startup_heap()
    assert frozen >= len(kept) and gc.get_freeze_count() == frozen
    walked = {id(obj) for obj in gc.get_objects()}
    assert not walked & {id(obj) for obj in kept}  # no collection walks them any more
    later = [[] for _ in range(10)]
    later[0].append(later[0])  # a cycle made after start-up is still collected
    del later
    assert gc.collect() >= 1
    assert gc.get_freeze_count() == frozen
