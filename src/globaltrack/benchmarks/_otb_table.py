"""OTB-2013 / OTB-50 / OTB-2015 sequence table (data, not code).

Derived from public files and checked by ``tests/benchmarks/test_otb.py`` against them:

- frame ranges and image-name widths: the pysot-style ``OTB2015.json`` (foolwood/DaSiamRPN code/data/OTB2015.json), which
  encodes the OTB toolkit's startFrame/endFrame (David 300-770, Football1 1-74, Freeman3 1-460, Freeman4 1-283,
  Diving 1-215, BlurCar1 247-988, BlurCar3 3-359, BlurCar4 18-397, Board ``%05d``) and Tiger1's OPE start at frame 6
  (the OTB toolkit's ``initOmit/tiger1.txt`` omits frames 1-5 before the first TRE segment);
- ``file_start``: the frame that row 1 of ``groundtruth_rect*.txt`` annotates (the MATLAB toolkit's ``anno_TB100``
  row counts: David's file starts at frame 300, Tiger1's at frame 1);
- ``toolkit``: the file stem in the OTB MATLAB toolkit's ``anno_TB100`` (zhangzheng0131/Tracker_Benchmark_tb100);
- ``att``: its ``anno_TB100/att/<toolkit>.txt`` flags in the toolkit's order ``ATTRIBUTES`` (perfPlot_TB100.m);
- subsets: ``cvpr13.txt`` (OTB-2013, 51 targets) and ``tb_50.txt`` (OTB-50) of jwlim/tracker_benchmark.

Official names are the OTB website's (``tb_100.txt``) and pysot's: ``Jogging-1``, ``Skating2-2``, ``Human4-2``.
"""

# toolkit order of the 11 attribute flags (perfPlot_TB100.m attName)
ATTRIBUTES = ("IV", "OPR", "SV", "OCC", "DEF", "MB", "FM", "IPR", "OV", "BC", "LR")

# name: (folder, annotation suffix, start, end, file_start, digits, ext, toolkit name, attribute flags)
OTB_TABLE = {
    'Basketball': ('Basketball', '', 1, 725, 1, 4, 'jpg', 'basketball', '11011000010'),
    'Biker': ('Biker', '', 1, 142, 1, 4, 'jpg', 'Biker', '01110110101'),
    'Bird1': ('Bird1', '', 1, 408, 1, 4, 'jpg', 'Bird1', '00001010100'),
    'Bird2': ('Bird2', '', 1, 99, 1, 4, 'jpg', 'Bird2', '01011011000'),
    'BlurBody': ('BlurBody', '', 1, 334, 1, 4, 'jpg', 'BlurBody', '00101111000'),
    'BlurCar1': ('BlurCar1', '', 247, 988, 247, 4, 'jpg', 'BlurCar1', '00000110000'),
    'BlurCar2': ('BlurCar2', '', 1, 585, 1, 4, 'jpg', 'BlurCar2', '00100110000'),
    'BlurCar3': ('BlurCar3', '', 3, 359, 3, 4, 'jpg', 'BlurCar3', '00000110000'),
    'BlurCar4': ('BlurCar4', '', 18, 397, 18, 4, 'jpg', 'BlurCar4', '00000110000'),
    'BlurFace': ('BlurFace', '', 1, 493, 1, 4, 'jpg', 'BlurFace', '00000111000'),
    'BlurOwl': ('BlurOwl', '', 1, 631, 1, 4, 'jpg', 'BlurOwl', '00100111000'),
    'Board': ('Board', '', 1, 698, 1, 5, 'jpg', 'Board', '00110110110'),
    'Bolt': ('Bolt', '', 1, 350, 1, 4, 'jpg', 'bolt', '01011001000'),
    'Bolt2': ('Bolt2', '', 1, 293, 1, 4, 'jpg', 'Bolt2', '00001000010'),
    'Box': ('Box', '', 1, 1161, 1, 4, 'jpg', 'Box', '11101101111'),
    'Boy': ('Boy', '', 1, 602, 1, 4, 'jpg', 'boy', '01100111000'),
    'Car1': ('Car1', '', 1, 1020, 1, 4, 'jpg', 'Car1', '10100110011'),
    'Car2': ('Car2', '', 1, 913, 1, 4, 'jpg', 'Car2', '00100110000'),
    'Car24': ('Car24', '', 1, 3059, 1, 4, 'jpg', 'Car24', '10100000010'),
    'Car4': ('Car4', '', 1, 659, 1, 4, 'jpg', 'car4', '10100000000'),
    'CarDark': ('CarDark', '', 1, 393, 1, 4, 'jpg', 'carDark', '10000000010'),
    'CarScale': ('CarScale', '', 1, 252, 1, 4, 'jpg', 'carScale', '01110011000'),
    'ClifBar': ('ClifBar', '', 1, 472, 1, 4, 'jpg', 'ClifBar', '01100111110'),
    'Coke': ('Coke', '', 1, 291, 1, 4, 'jpg', 'coke', '11010011000'),
    'Couple': ('Couple', '', 1, 140, 1, 4, 'jpg', 'couple', '01101010010'),
    'Coupon': ('Coupon', '', 1, 327, 1, 4, 'jpg', 'Coupon', '01000000010'),
    'Crossing': ('Crossing', '', 1, 120, 1, 4, 'jpg', 'crossing', '00101000010'),
    'Crowds': ('Crowds', '', 1, 347, 1, 4, 'jpg', 'Crowds', '10001000010'),
    'Dancer': ('Dancer', '', 1, 225, 1, 4, 'jpg', 'Dancer', '00111001000'),
    'Dancer2': ('Dancer2', '', 1, 150, 1, 4, 'jpg', 'Dancer2', '00001000000'),
    'David': ('David', '', 300, 770, 300, 4, 'jpg', 'david', '11111101000'),
    'David2': ('David2', '', 1, 537, 1, 4, 'jpg', 'david2', '01000001000'),
    'David3': ('David3', '', 1, 252, 1, 4, 'jpg', 'david3', '01011000010'),
    'Deer': ('Deer', '', 1, 71, 1, 4, 'jpg', 'deer', '00000111011'),
    'Diving': ('Diving', '', 1, 215, 1, 4, 'jpg', 'Diving', '00101001000'),
    'Dog': ('Dog', '', 1, 127, 1, 4, 'jpg', 'Dog', '00111000000'),
    'Dog1': ('Dog1', '', 1, 1350, 1, 4, 'jpg', 'dog1', '01100001000'),
    'Doll': ('Doll', '', 1, 3872, 1, 4, 'jpg', 'doll', '11110001000'),
    'DragonBaby': ('DragonBaby', '', 1, 113, 1, 4, 'jpg', 'DragonBaby', '01110111100'),
    'Dudek': ('Dudek', '', 1, 1145, 1, 4, 'jpg', 'dudek', '01111011110'),
    'FaceOcc1': ('FaceOcc1', '', 1, 892, 1, 4, 'jpg', 'faceocc1', '00010000000'),
    'FaceOcc2': ('FaceOcc2', '', 1, 812, 1, 4, 'jpg', 'faceocc2', '11010001000'),
    'Fish': ('Fish', '', 1, 476, 1, 4, 'jpg', 'fish', '10000000000'),
    'FleetFace': ('FleetFace', '', 1, 707, 1, 4, 'jpg', 'fleetface', '01101111000'),
    'Football': ('Football', '', 1, 362, 1, 4, 'jpg', 'football', '01010001010'),
    'Football1': ('Football1', '', 1, 74, 1, 4, 'jpg', 'football1', '01000001010'),
    'Freeman1': ('Freeman1', '', 1, 326, 1, 4, 'jpg', 'freeman1', '01100001000'),
    'Freeman3': ('Freeman3', '', 1, 460, 1, 4, 'jpg', 'freeman3', '01100001000'),
    'Freeman4': ('Freeman4', '', 1, 283, 1, 4, 'jpg', 'freeman4', '01110001000'),
    'Girl': ('Girl', '', 1, 500, 1, 4, 'jpg', 'girl', '01110001000'),
    'Girl2': ('Girl2', '', 1, 1500, 1, 4, 'jpg', 'Girl2', '01111100000'),
    'Gym': ('Gym', '', 1, 767, 1, 4, 'jpg', 'Gym', '00111001000'),
    'Human2': ('Human2', '', 1, 1128, 1, 4, 'jpg', 'Human2', '10110100000'),
    'Human3': ('Human3', '', 1, 1698, 1, 4, 'jpg', 'Human3', '01111000010'),
    'Human4-2': ('Human4', '.2', 1, 667, 1, 4, 'jpg', 'Human4.2', '11101000000'),
    'Human5': ('Human5', '', 1, 713, 1, 4, 'jpg', 'Human5', '01101000000'),
    'Human6': ('Human6', '', 1, 792, 1, 4, 'jpg', 'Human6', '01111010100'),
    'Human7': ('Human7', '', 1, 250, 1, 4, 'jpg', 'Human7', '11101110000'),
    'Human8': ('Human8', '', 1, 128, 1, 4, 'jpg', 'Human8', '10101000000'),
    'Human9': ('Human9', '', 1, 305, 1, 4, 'jpg', 'Human9', '10101110000'),
    'Ironman': ('Ironman', '', 1, 166, 1, 4, 'jpg', 'ironman', '11110111111'),
    'Jogging-1': ('Jogging', '.1', 1, 307, 1, 4, 'jpg', 'jogging-1', '01011000000'),
    'Jogging-2': ('Jogging', '.2', 1, 307, 1, 4, 'jpg', 'jogging-2', '01011000000'),
    'Jump': ('Jump', '', 1, 122, 1, 4, 'jpg', 'Jump', '01111111000'),
    'Jumping': ('Jumping', '', 1, 313, 1, 4, 'jpg', 'jumping', '00000110000'),
    'KiteSurf': ('KiteSurf', '', 1, 84, 1, 4, 'jpg', 'KiteSurf', '11010001000'),
    'Lemming': ('Lemming', '', 1, 1336, 1, 4, 'jpg', 'lemming', '11110010100'),
    'Liquor': ('Liquor', '', 1, 1741, 1, 4, 'jpg', 'liquor', '11110110110'),
    'Man': ('Man', '', 1, 134, 1, 4, 'jpg', 'Man', '01110001000'),
    'Matrix': ('Matrix', '', 1, 100, 1, 4, 'jpg', 'matrix', '11110011010'),
    'Mhyang': ('Mhyang', '', 1, 1490, 1, 4, 'jpg', 'mhyang', '11001000010'),
    'MotorRolling': ('MotorRolling', '', 1, 164, 1, 4, 'jpg', 'motorRolling', '10100111011'),
    'MountainBike': ('MountainBike', '', 1, 228, 1, 4, 'jpg', 'mountainBike', '01000001010'),
    'Panda': ('Panda', '', 1, 1000, 1, 4, 'jpg', 'Panda', '01111001101'),
    'RedTeam': ('RedTeam', '', 1, 1918, 1, 4, 'jpg', 'RedTeam', '01110001001'),
    'Rubik': ('Rubik', '', 1, 1997, 1, 4, 'jpg', 'Rubik', '01110001000'),
    'Shaking': ('Shaking', '', 1, 365, 1, 4, 'jpg', 'shaking', '11100001010'),
    'Singer1': ('Singer1', '', 1, 351, 1, 4, 'jpg', 'singer1', '11110000000'),
    'Singer2': ('Singer2', '', 1, 366, 1, 4, 'jpg', 'singer2', '11001001010'),
    'Skater': ('Skater', '', 1, 160, 1, 4, 'jpg', 'Skater', '00111001000'),
    'Skater2': ('Skater2', '', 1, 435, 1, 4, 'jpg', 'Skater2', '00111011000'),
    'Skating1': ('Skating1', '', 1, 400, 1, 4, 'jpg', 'skating1', '11111000010'),
    'Skating2-1': ('Skating2', '.1', 1, 473, 1, 4, 'jpg', 'Skating2.1', '01111010000'),
    'Skating2-2': ('Skating2', '.2', 1, 473, 1, 4, 'jpg', 'Skating2.2', '01111010000'),
    'Skiing': ('Skiing', '', 1, 81, 1, 4, 'jpg', 'skiing', '11101001000'),
    'Soccer': ('Soccer', '', 1, 392, 1, 4, 'jpg', 'soccer', '11110111010'),
    'Subway': ('Subway', '', 1, 175, 1, 4, 'jpg', 'subway', '00011000010'),
    'Surfer': ('Surfer', '', 1, 376, 1, 4, 'jpg', 'Surfer', '00110011001'),
    'Suv': ('Suv', '', 1, 945, 1, 4, 'jpg', 'suv', '00010001100'),
    'Sylvester': ('Sylvester', '', 1, 1345, 1, 4, 'jpg', 'sylvester', '11000001000'),
    'Tiger1': ('Tiger1', '', 6, 354, 1, 4, 'jpg', 'tiger1', '11011111000'),
    'Tiger2': ('Tiger2', '', 1, 365, 1, 4, 'jpg', 'tiger2', '11011111100'),
    'Toy': ('Toy', '', 1, 271, 1, 4, 'jpg', 'Toy', '00110011000'),
    'Trans': ('Trans', '', 1, 124, 1, 4, 'jpg', 'Trans', '11101000000'),
    'Trellis': ('Trellis', '', 1, 569, 1, 4, 'jpg', 'trellis', '11100001010'),
    'Twinnings': ('Twinnings', '', 1, 472, 1, 4, 'jpg', 'Twinnings', '00110000000'),
    'Vase': ('Vase', '', 1, 271, 1, 4, 'jpg', 'Vase', '00100011000'),
    'Walking': ('Walking', '', 1, 412, 1, 4, 'jpg', 'walking', '00111000000'),
    'Walking2': ('Walking2', '', 1, 500, 1, 4, 'jpg', 'walking2', '00110000001'),
    'Woman': ('Woman', '', 1, 597, 1, 4, 'jpg', 'woman', '11111110000'),
}

OTB2013 = (
    'Basketball', 'Bolt', 'Boy', 'Car4', 'CarDark', 'CarScale', 'Coke', 'Couple',
    'Crossing', 'David', 'David2', 'David3', 'Deer', 'Dog1', 'Doll', 'Dudek',
    'FaceOcc1', 'FaceOcc2', 'Fish', 'FleetFace', 'Football', 'Football1', 'Freeman1', 'Freeman3',
    'Freeman4', 'Girl', 'Ironman', 'Jogging-1', 'Jogging-2', 'Jumping', 'Lemming', 'Liquor',
    'Matrix', 'Mhyang', 'MotorRolling', 'MountainBike', 'Shaking', 'Singer1', 'Singer2', 'Skating1',
    'Skiing', 'Soccer', 'Subway', 'Suv', 'Sylvester', 'Tiger1', 'Tiger2', 'Trellis',
    'Walking', 'Walking2', 'Woman',
)

OTB50 = (
    'Basketball', 'Biker', 'Bird1', 'BlurBody', 'BlurCar2', 'BlurFace', 'BlurOwl', 'Bolt',
    'Box', 'Car1', 'Car4', 'CarDark', 'CarScale', 'ClifBar', 'Couple', 'Crowds',
    'David', 'Deer', 'Diving', 'DragonBaby', 'Dudek', 'Football', 'Freeman4', 'Girl',
    'Human3', 'Human4-2', 'Human6', 'Human9', 'Ironman', 'Jump', 'Jumping', 'Liquor',
    'Matrix', 'MotorRolling', 'Panda', 'RedTeam', 'Shaking', 'Singer2', 'Skating1', 'Skating2-1',
    'Skating2-2', 'Skiing', 'Soccer', 'Surfer', 'Sylvester', 'Tiger2', 'Trellis', 'Walking',
    'Walking2', 'Woman',
)

OTB2015 = (
    'Basketball', 'Biker', 'Bird1', 'Bird2', 'BlurBody', 'BlurCar1', 'BlurCar2', 'BlurCar3',
    'BlurCar4', 'BlurFace', 'BlurOwl', 'Board', 'Bolt', 'Bolt2', 'Box', 'Boy',
    'Car1', 'Car2', 'Car24', 'Car4', 'CarDark', 'CarScale', 'ClifBar', 'Coke',
    'Couple', 'Coupon', 'Crossing', 'Crowds', 'Dancer', 'Dancer2', 'David', 'David2',
    'David3', 'Deer', 'Diving', 'Dog', 'Dog1', 'Doll', 'DragonBaby', 'Dudek',
    'FaceOcc1', 'FaceOcc2', 'Fish', 'FleetFace', 'Football', 'Football1', 'Freeman1', 'Freeman3',
    'Freeman4', 'Girl', 'Girl2', 'Gym', 'Human2', 'Human3', 'Human4-2', 'Human5',
    'Human6', 'Human7', 'Human8', 'Human9', 'Ironman', 'Jogging-1', 'Jogging-2', 'Jump',
    'Jumping', 'KiteSurf', 'Lemming', 'Liquor', 'Man', 'Matrix', 'Mhyang', 'MotorRolling',
    'MountainBike', 'Panda', 'RedTeam', 'Rubik', 'Shaking', 'Singer1', 'Singer2', 'Skater',
    'Skater2', 'Skating1', 'Skating2-1', 'Skating2-2', 'Skiing', 'Soccer', 'Subway', 'Surfer',
    'Suv', 'Sylvester', 'Tiger1', 'Tiger2', 'Toy', 'Trans', 'Trellis', 'Twinnings',
    'Vase', 'Walking', 'Walking2', 'Woman',
)

