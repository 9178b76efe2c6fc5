"""What we know about the CMU data, in one place.

The CMU database comes both as original ASF/AMC and as the MotionBuilder
friendly BVH conversion; the two name their joints differently but list them
in the same order. Readers use this table to give both the BVH names, so a
model trained on one applies to the other.
"""

from __future__ import annotations

READER_PRESETS = ("auto", "cmu", "none")
"""What readers, data sets and commands accept as ``preset``: detect CMU files, insist on CMU, or take files as written."""

CMU_SCALE_CM = 5.6444
"""One CMU length unit in cm: (1 / 0.45) * 2.54 (CMU FAQ)."""

CMU_FPS = 120.0

CMU_BVH_TO_ASF: dict[str, str] = {
    "Hips": "root",
    "LHipJoint": "lhipjoint",
    "LeftUpLeg": "lfemur",
    "LeftLeg": "ltibia",
    "LeftFoot": "lfoot",
    "LeftToeBase": "ltoes",
    "RHipJoint": "rhipjoint",
    "RightUpLeg": "rfemur",
    "RightLeg": "rtibia",
    "RightFoot": "rfoot",
    "RightToeBase": "rtoes",
    "LowerBack": "lowerback",
    "Spine": "upperback",
    "Spine1": "thorax",
    "Neck": "lowerneck",
    "Neck1": "upperneck",
    "Head": "head",
    "LeftShoulder": "lclavicle",
    "LeftArm": "lhumerus",
    "LeftForeArm": "lradius",
    "LeftHand": "lwrist",
    "LeftFingerBase": "lhand",
    "LeftHandIndex1": "lfingers",
    "LThumb": "lthumb",
    "RightShoulder": "rclavicle",
    "RightArm": "rhumerus",
    "RightForeArm": "rradius",
    "RightHand": "rwrist",
    "RightFingerBase": "rhand",
    "RightHandIndex1": "rfingers",
    "RThumb": "rthumb",
}
"""BVH joint name -> ASF bone name, in skeleton order (root first)."""

CMU_ASF_TO_BVH: dict[str, str] = {v: k for k, v in CMU_BVH_TO_ASF.items()}

CMU_JOINT_NAMES: list[str] = list(CMU_BVH_TO_ASF)

CMU_PARENTS: list[int] = [-1, 0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 0, 11, 12, 13, 14, 15, 13, 17, 18, 19, 20, 21, 20, 13, 24, 25, 26, 27, 28, 27]
"""Parent index per joint of :data:`CMU_JOINT_NAMES`."""

CMU_LEFT_LEG = ["LeftUpLeg", "LeftLeg", "LeftFoot"]
"""Joints whose offsets add up to the hip-to-ankle length (thigh, shin, ankle)."""


def is_cmu_layout(names: list[str]) -> bool:
    """Whether joint names are the CMU BVH or ASF names in CMU order."""
    return names == CMU_JOINT_NAMES or names == [CMU_BVH_TO_ASF[n] for n in CMU_JOINT_NAMES]
