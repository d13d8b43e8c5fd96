"""LaSOT sequence names (data, not code).

- ``CLASSES``: the 70 LaSOT categories; every category has sequences ``<class>-1`` .. ``<class>-20`` (1,400 in all,
  the toolkit's ``sequence_evaluation_config/all_dataset.txt``, sorted as strings there).
- ``TEST``: the 280 test sequences of Protocol II, four per class, in the order of the toolkit's
  ``sequence_evaluation_config/testing_set.txt`` (HengLan/LaSOT_Evaluation_Toolkit; pytracking's list is the same).
  ``tests/benchmarks/test_lasot.py`` checks both against those files.
- the train split is the other 1,120 (``all_dataset`` minus ``TEST``).
"""

CLASSES = (
    'airplane', 'basketball', 'bear', 'bicycle', 'bird', 'boat', 'book', 'bottle',
    'bus', 'car', 'cat', 'cattle', 'chameleon', 'coin', 'crab', 'crocodile',
    'cup', 'deer', 'dog', 'drone', 'electricfan', 'elephant', 'flag', 'fox',
    'frog', 'gametarget', 'gecko', 'giraffe', 'goldfish', 'gorilla', 'guitar', 'hand',
    'hat', 'helmet', 'hippo', 'horse', 'kangaroo', 'kite', 'leopard', 'licenseplate',
    'lion', 'lizard', 'microphone', 'monkey', 'motorcycle', 'mouse', 'person', 'pig',
    'pool', 'rabbit', 'racing', 'robot', 'rubicCube', 'sepia', 'shark', 'sheep',
    'skateboard', 'spider', 'squirrel', 'surfboard', 'swing', 'tank', 'tiger', 'train',
    'truck', 'turtle', 'umbrella', 'volleyball', 'yoyo', 'zebra',
)

# class -> test sequence numbers, in testing_set.txt order
TEST_NUMBERS = {
    'airplane': (1, 9, 13, 15),
    'basketball': (1, 6, 7, 11),
    'bear': (2, 4, 6, 17),
    'bicycle': (2, 7, 9, 18),
    'bird': (2, 3, 15, 17),
    'boat': (3, 4, 12, 17),
    'book': (3, 10, 11, 19),
    'bottle': (1, 12, 14, 18),
    'bus': (2, 5, 17, 19),
    'car': (2, 6, 9, 17),
    'cat': (1, 3, 18, 20),
    'cattle': (2, 7, 12, 13),
    'spider': (14, 16, 18, 20),
    'coin': (3, 6, 7, 18),
    'crab': (3, 6, 12, 18),
    'surfboard': (12, 4, 5, 8),
    'cup': (1, 4, 7, 17),
    'deer': (4, 8, 10, 14),
    'dog': (1, 7, 15, 19),
    'guitar': (3, 8, 10, 16),
    'person': (1, 5, 10, 12),
    'pig': (2, 10, 13, 18),
    'rubicCube': (1, 6, 14, 19),
    'swing': (10, 14, 17, 20),
    'drone': (13, 15, 2, 7),
    'pool': (12, 15, 3, 7),
    'rabbit': (10, 13, 17, 19),
    'racing': (10, 15, 16, 20),
    'robot': (1, 19, 5, 8),
    'sepia': (13, 16, 6, 8),
    'sheep': (3, 5, 7, 9),
    'skateboard': (16, 19, 3, 8),
    'tank': (14, 16, 6, 9),
    'tiger': (12, 18, 4, 6),
    'train': (1, 11, 20, 7),
    'truck': (16, 3, 6, 7),
    'turtle': (16, 5, 8, 9),
    'umbrella': (17, 19, 2, 9),
    'yoyo': (15, 17, 19, 7),
    'zebra': (10, 14, 16, 17),
    'elephant': (1, 12, 16, 18),
    'goldfish': (3, 7, 8, 10),
    'hat': (1, 2, 5, 18),
    'kite': (4, 6, 10, 15),
    'motorcycle': (1, 3, 9, 18),
    'mouse': (1, 8, 9, 17),
    'flag': (3, 9, 5, 2),
    'frog': (3, 4, 20, 9),
    'gametarget': (1, 2, 7, 13),
    'hand': (2, 3, 9, 16),
    'helmet': (5, 11, 19, 13),
    'licenseplate': (6, 12, 13, 15),
    'electricfan': (1, 10, 18, 20),
    'chameleon': (3, 6, 11, 20),
    'crocodile': (3, 4, 10, 14),
    'gecko': (1, 5, 16, 19),
    'fox': (2, 3, 5, 20),
    'giraffe': (2, 10, 13, 15),
    'gorilla': (4, 6, 9, 13),
    'hippo': (1, 7, 9, 20),
    'horse': (1, 4, 12, 15),
    'kangaroo': (2, 5, 11, 14),
    'leopard': (1, 7, 16, 20),
    'lion': (1, 5, 12, 20),
    'lizard': (1, 3, 6, 13),
    'microphone': (2, 6, 14, 16),
    'monkey': (3, 4, 9, 17),
    'shark': (2, 3, 5, 6),
    'squirrel': (8, 11, 13, 19),
    'volleyball': (1, 13, 18, 19),
}

TEST = tuple(f"{c}-{n}" for c, nums in TEST_NUMBERS.items() for n in nums)
ALL = tuple(sorted(f"{c}-{n}" for c in CLASSES for n in range(1, 21)))
_TEST_SET = frozenset(TEST)
TRAIN = tuple(n for n in ALL if n not in _TEST_SET)
