"""The resume key changes when a file named by an option changes content, not only when its path changes."""
from globaltrack.harness.resume import content_key
from globaltrack.sequence import Sequence


def test_key_follows_the_content_of_a_weights_file(tmp_path):
    seq = Sequence("s", ground_truth=[[1, 2, 3, 4]])
    w = tmp_path / "w.pth"
    w.write_bytes(b"first weights")
    k1 = content_key("globaltrack", {"weights": str(w)}, seq)
    assert content_key("globaltrack", {"weights": str(w)}, seq) == k1
    w.write_bytes(b"retrained weights, same path")
    assert content_key("globaltrack", {"weights": str(w)}, seq) != k1
    assert content_key("globaltrack", {"threshold": "0.84"}, seq) != k1
