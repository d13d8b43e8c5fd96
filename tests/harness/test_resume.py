import numpy as np

from globaltrack import Sequence
from globaltrack.harness.resume import content_key, discard, is_complete
from globaltrack.results.store import ResultStore, SequenceResult


def _seq(gt=((1, 2, 3, 4), (2, 3, 4, 5))):
    return Sequence("s", frames=["a.jpg", "b.jpg"], ground_truth=gt)


def test_key_depends_on_tracker_options_version_and_annotation():
    base = content_key("kcf", {"a": "1"}, _seq())
    assert base == content_key("kcf", {"a": "1"}, _seq())
    assert base == content_key("KCF", {"a": "1"}, _seq())  # registry names are case-insensitive
    assert base != content_key("csrt", {"a": "1"}, _seq())
    assert base != content_key("kcf", {"a": "2"}, _seq())
    assert base != content_key("kcf", {}, _seq())
    assert base != content_key("kcf", {"a": "1"}, _seq(), version="9.9")
    assert base != content_key("kcf", {"a": "1"}, _seq(gt=((1, 2, 3, 4), (2, 3, 4, 6))))


def test_complete_only_with_matching_key_and_discard_removes_everything(tmp_path):
    store = ResultStore(tmp_path)
    res = SequenceResult(np.ones((2, 4)))
    assert not is_complete(store, "b", "t", "s", "k")
    store.write("b", "t", "s", res)  # no key: an interrupted write is never complete
    assert not is_complete(store, "b", "t", "s", "k")
    store.write("b", "t", "s", res, key="k")
    assert is_complete(store, "b", "t", "s", "k")
    assert not is_complete(store, "b", "t", "s", "other")
    discard(store, "b", "t", "s")
    assert list((tmp_path / "b" / "t").iterdir()) == []
