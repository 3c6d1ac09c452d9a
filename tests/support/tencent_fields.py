"""Tencent's request fields, transcribed struct by struct from cos-go-sdk-v5 ``ci_media.go`` (commit
cc9846d9) with the extras of spec §5.4/§8.2/§10.1 (marked ``spec``), independently of cosflow's own
tables. ``tests/e2e/test_fields.py`` sends each one to the server and checks it is honoured or
refused by name.

A struct is a dict; a leaf is ``None``. :data:`SAMPLES` gives the value (and the fields it needs
beside it) each path is sent with; every other path is sent with ``"1"``.
"""

from __future__ import annotations

from typing import Any

Struct = dict[str, Any]


def leaves(names: str) -> Struct:
    return dict.fromkeys(names.split())


CLIP_CONFIG = leaves("Duration")
CONTAINER = {"Format": None, "ClipConfig": CLIP_CONFIG}
VIDEO = {
    **leaves(
        "Codec Width Height Fps Remove Profile Bitrate Crf Gop Preset Bufsize Maxrate HlsTsTime DashSegment "
        "Pixfmt LongShortMode Rotate AnimateOnlyKeepKeyFrame AnimateTimeIntervalOfFrame AnimateFramesPerSecond "
        "Quality Roi Crop Interlaced StdExtInfo"
    ),
    "ColorParam": leaves("ColorRange ColorSpace ColorTrc ColorPrimaries"),
}
TIME_INTERVAL = leaves("Start Duration")
AUDIO = leaves("Codec Samplerate Bitrate Channels Remove KeepTwoTracks SwitchTrack SampleFormat")
HLS_ENCRYPT = leaves("IsHlsEncrypt UriKey")
AIGC_METADATA = leaves("Label ContentProducer ProduceID ReservedCode1 ContentPropagator PropagateID ReservedCode2")
TRANS_CONFIG = {
    **leaves(
        "AdjDarMethod IsCheckReso ResoAdjMethod IsCheckVideoBitrate VideoBitrateAdjMethod IsCheckAudioBitrate "
        "AudioBitrateAdjMethod DeleteMetadata IsHdr2Sdr"
    ),
    "HlsEncrypt": HLS_ENCRYPT,
    "AIGCMetadata": AIGC_METADATA,
    **leaves("IsCheckVideoFps VideoFpsAdjMethod TranscodeIndex"),  # spec §10.1
    "DashEncrypt": leaves("IsEncrypt UriKey"),  # spec §10.1
}
EFFECT_CONFIG = leaves("EnableStartFadein StartFadeinTime EnableEndFadeout EndFadeoutTime EnableBgmFade BgmFadeTime")
AUDIO_MIX = {**leaves("AudioSource MixMode Replace"), "EffectConfig": EFFECT_CONFIG}
SPRITE_SNAPSHOT_CONFIG = leaves("CellHeight CellWidth Color Columns Lines Margin Padding ScaleMethod")
SNAPSHOT = {
    **leaves(
        "Mode Start TimeInterval Count Width Height CIParam IsCheckCount IsCheckBlack BlackLevel "
        "PixelBlackThreshold SnapshotOutMode"
    ),
    "SpriteSnapshotConfig": SPRITE_SNAPSHOT_CONFIG,
}
ANIMATION_VIDEO = leaves(
    "Codec Width Height Fps AnimateOnlyKeepKeyFrame AnimateTimeIntervalOfFrame AnimateFramesPerSecond Quality"
)
NODE_SMART_COVER = leaves("Format Width Height Count DeleteDuplicates")
PIC_PROCESS = leaves("IsPicInfo ProcessRule")

#: CreateMedia*TemplateOptions, less Tag and Name.
TEMPLATES: dict[str, Struct] = {
    "Transcode": {
        "Container": CONTAINER,
        "Video": VIDEO,
        "Audio": AUDIO,
        "TimeInterval": TIME_INTERVAL,
        "TransConfig": TRANS_CONFIG,
        "AudioMix": AUDIO_MIX,
        "AudioMixArray": AUDIO_MIX,
    },
    "Snapshot": {"Snapshot": SNAPSHOT},
    "Animation": {"Container": CONTAINER, "Video": ANIMATION_VIDEO, "TimeInterval": TIME_INTERVAL},
    "SmartCover": {"SmartCover": NODE_SMART_COVER},
    "PicProcess": {"PicProcess": PIC_PROCESS},
}

NOTIFY_CONFIG = {
    **leaves("Url Event Type ResultFormat State"),
    "KafkaConfig": leaves("Region InstanceId Topic"),
    **leaves("MqMode MqRegion MqName"),  # spec §5.3
}
EXT_FILTER = leaves("State Video Audio Image ContentType Custom CustomExts AllFile AutoContentType")
#: Start node: Node{Type, Input: NodeInput}.
START_INPUT = {
    **leaves("QueueId ObjectPrefix"),
    "NotifyConfig": NOTIFY_CONFIG,
    "ExtFilter": EXT_FILTER,
    "SamplingConfig": leaves("State Mode Ratio"),
    **leaves("PicProcessQueueId SpeechRecognitionQueueId AIProcessQueueId"),  # spec §5.3
}
VIDEO_STREAM_CONFIG = leaves("VideoStreamName BandWidth")
#: Task nodes: Node{Type, Operation: NodeOperation}.
NODE_OPERATION = {
    "TemplateId": None,
    "Output": {
        **leaves("Region Bucket Object AuObject SpriteObject BassObject DrumObject"),
        "StreamExtract": leaves("Index Object"),
    },
    "WatermarkTemplateId": None,
    "DelogoParam": leaves("Switch Dx Dy Width Height"),
    "SDRtoHDR": leaves("HdrMode"),
    "SCF": leaves("Region FunctionName Namespace"),
    "HlsPackInfo": {"VideoStreamConfig": VIDEO_STREAM_CONFIG},
    "TranscodeTemplateId": None,
    "SmartCover": NODE_SMART_COVER,
    "Segment": {
        **leaves("Format Duration"),
        "AIGCMetadata": AIGC_METADATA,
        **leaves("StartTime EndTime TranscodeIndex"),  # spec §5.4
        "HlsEncrypt": HLS_ENCRYPT,  # spec §5.4
    },
    "DigitalWatermark": leaves("Message Type Version IgnoreError"),  # IgnoreError: spec §5.4
    "StreamPackConfig": leaves("PackType IgnoreFailedStream ReserveAllStreamNode"),
    "StreamPackInfo": {"VideoStreamConfig": VIDEO_STREAM_CONFIG},
    "Condition": leaves("Express"),
    "SegmentVideoBody": leaves(
        "Mode SegmentType BackgroundBlue BackgroundRed BackgroundGreen BackgroundLogoUrl BinaryThreshold "
        "RemoveRed RemoveGreen RemoveBlue"
    ),
    "ImageInspect": leaves("AutoProcess ProcessType"),
    "TranscodeConfig": leaves("FreeTranscode"),
    "DocAIGCMetadata": leaves("Label ContentProducer ProduceID"),
    "RemoveWatermark": leaves("Dx Dy Width Height"),  # spec §5.4
    "Input": leaves("SpeedTranscodingQueueId"),  # spec §5.4
}
#: UpdateMediaQueue (spec §8.2; Python SDK demo ``ci_put_media_queue``).
QUEUE_UPDATE = {**leaves("Name QueueID State"), "NotifyConfig": NOTIFY_CONFIG}

Sample = tuple[str, dict[str, str]]
_URL = {"Url": "http://127.0.0.1:9/cb"}

#: path -> (value, other fields it needs). Paths are relative to the struct walked.
SAMPLES: dict[str, dict[str, Sample]] = {
    "Transcode": {
        "Container/Format": ("mkv", {}),
        "Container/ClipConfig/Duration": ("4", {"Container/Format": "hls"}),
        "Video/Codec": ("H.265", {}),
        "Video/Width": ("640", {}),
        "Video/Height": ("360", {}),
        "Video/Fps": ("25", {}),
        "Video/Remove": ("true", {}),
        "Video/Profile": ("main", {"Video/Codec": "H.264"}),
        "Video/Bitrate": ("800", {}),
        "Video/Crf": ("30", {}),
        "Video/Gop": ("50", {}),
        "Video/Preset": ("fast", {}),
        "Video/Bufsize": ("2000", {"Video/Maxrate": "1000"}),
        "Video/Maxrate": ("1000", {}),
        "Video/Pixfmt": ("yuv444p", {}),
        "Video/Rotate": ("90", {}),
        "Video/LongShortMode": ("true", {}),
        "Video/Roi": ("high", {}),
        "Video/Interlaced": ("true", {}),
        "Audio/Codec": ("mp3", {}),
        "Audio/Samplerate": ("48000", {}),
        "Audio/Bitrate": ("96", {}),
        "Audio/Channels": ("1", {}),
        "Audio/Remove": ("true", {}),
        "Audio/KeepTwoTracks": ("true", {}),
        "Audio/SwitchTrack": ("true", {}),
        "TimeInterval/Start": ("1", {}),
        "TimeInterval/Duration": ("2", {}),
        "TransConfig/AdjDarMethod": ("pad", {"Video/Width": "640", "Video/Height": "360"}),
        "TransConfig/DeleteMetadata": ("true", {}),
        **{f"TransConfig/{name}": ("true", {}) for name in TRANS_CONFIG if name.startswith("Is")},
        "TransConfig/HlsEncrypt/IsHlsEncrypt": ("true", {"Container/Format": "hls"}),
        "TransConfig/DashEncrypt/IsEncrypt": ("true", {}),
    },
    "Snapshot": {
        "Snapshot/Mode": ("Average", {}),
        "Snapshot/Start": ("1", {}),
        "Snapshot/TimeInterval": ("2", {}),
        "Snapshot/Count": ("1", {}),
        "Snapshot/Width": ("320", {}),
        "Snapshot/Height": ("240", {}),
        "Snapshot/CIParam": ("imageMogr2/format/png", {}),
        "Snapshot/IsCheckCount": ("true", {"Snapshot/TimeInterval": "1"}),
        "Snapshot/IsCheckBlack": ("true", {}),
        "Snapshot/BlackLevel": ("50", {"Snapshot/IsCheckBlack": "true"}),
        "Snapshot/PixelBlackThreshold": ("20", {"Snapshot/IsCheckBlack": "true"}),
        "Snapshot/SnapshotOutMode": (
            "OnlySprite",
            {"Snapshot/SpriteSnapshotConfig/Columns": "2", "Snapshot/SpriteSnapshotConfig/Lines": "2"},
        ),
        **{
            f"Snapshot/SpriteSnapshotConfig/{name}": (
                value,
                {
                    "Snapshot/SnapshotOutMode": "SnapshotAndSprite",
                    "Snapshot/SpriteSnapshotConfig/Columns": "2",
                    "Snapshot/SpriteSnapshotConfig/Lines": "2",
                },
            )
            for name, value in (
                ("CellHeight", "90"),
                ("CellWidth", "160"),
                ("Color", "white"),
                ("Columns", "3"),
                ("Lines", "3"),
                ("Margin", "4"),
                ("Padding", "2"),
                ("ScaleMethod", "MaxWHScale"),
            )
        },
    },  # fmt: skip
    "Animation": {
        "Container/Format": ("webp", {}),
        "Video/Codec": ("gif", {}),
        "Video/Width": ("320", {}),
        "Video/Height": ("240", {}),
        "Video/Fps": ("10", {}),
        "Video/AnimateOnlyKeepKeyFrame": ("true", {}),
        "Video/AnimateTimeIntervalOfFrame": ("0.5", {}),
        "Video/AnimateFramesPerSecond": ("5", {}),
        "Video/Quality": ("80", {"Container/Format": "webp"}),
        "TimeInterval/Start": ("1", {}),
        "TimeInterval/Duration": ("2", {}),
    },
    "SmartCover": {
        "SmartCover/Format": ("png", {}),
        "SmartCover/Width": ("320", {}),
        "SmartCover/Height": ("240", {}),
        "SmartCover/Count": ("2", {}),
        "SmartCover/DeleteDuplicates": ("true", {}),
    },
    "PicProcess": {
        "PicProcess/ProcessRule": ("imageMogr2/thumbnail/32x", {}),
        "PicProcess/IsPicInfo": ("true", {}),
    },
    "Start": {
        "Input/QueueId": ("{queue}", {}),
        "Input/PicProcessQueueId": ("{pic_queue}", {}),
        "Input/ObjectPrefix": ("in/", {}),
        "Input/NotifyConfig/Url": ("http://127.0.0.1:9/cb", {}),
        "Input/NotifyConfig/Event": ("TaskFinish", {"Input/NotifyConfig/Url": _URL["Url"]}),
        "Input/NotifyConfig/Type": ("Url", {"Input/NotifyConfig/Url": _URL["Url"]}),
        "Input/NotifyConfig/ResultFormat": ("JSON", {"Input/NotifyConfig/Url": _URL["Url"]}),
        "Input/NotifyConfig/State": ("On", {"Input/NotifyConfig/Url": _URL["Url"]}),
        "Input/NotifyConfig/MqRegion": ("bj", {"Input/NotifyConfig/Url": _URL["Url"]}),
        **{
            f"Input/ExtFilter/{name}": ("true", {"Input/ExtFilter/State": "On"})
            for name in ("Video", "Audio", "Image", "ContentType", "AllFile")
        },
        "Input/ExtFilter/State": ("On", {}),
        "Input/ExtFilter/Custom": ("true", {"Input/ExtFilter/CustomExts": "mp4"}),
        "Input/ExtFilter/CustomExts": ("mp4", {"Input/ExtFilter/Custom": "true"}),
    },
    "Operation": {
        "TemplateId": ("{template}", {}),
        "Output/Region": ("ap-guangzhou", {}),
        "Output/Bucket": ("{bucket}", {}),
        "Output/Object": ("w/${InputName}-${Number}.${Ext}", {}),
        "Output/SpriteObject": ("w/sprite-${Number}.${Ext}", {"TemplateId": "{sprite_template}"}),
        "SmartCover/Format": ("png", {}),
        "SmartCover/Width": ("320", {}),
        "SmartCover/Height": ("240", {}),
        "SmartCover/Count": ("2", {}),
        "SmartCover/DeleteDuplicates": ("true", {}),
        "Segment/Format": ("mkv", {}),
        "Segment/Duration": ("10", {}),
        "Segment/StartTime": ("1", {}),
        "Segment/EndTime": ("5", {}),
        "Segment/HlsEncrypt/IsHlsEncrypt": ("true", {"Segment/Format": "hls"}),
    },
    "Queue": {
        "Name": ("renamed", {}),
        "QueueID": ("{queue}", {}),
        "State": ("Active", {}),
        "NotifyConfig/Url": ("http://127.0.0.1:9/cb", {}),
        "NotifyConfig/Event": ("TaskFinish", {"NotifyConfig/Url": _URL["Url"]}),
        "NotifyConfig/Type": ("Url", {"NotifyConfig/Url": _URL["Url"]}),
        "NotifyConfig/ResultFormat": ("JSON", {"NotifyConfig/Url": _URL["Url"]}),
        "NotifyConfig/State": ("On", {"NotifyConfig/Url": _URL["Url"]}),
    },
}


def paths(struct: Struct, prefix: str = "") -> list[str]:
    """Every leaf path of ``struct``: ``Video/ColorParam/ColorRange``, ..."""
    found = []
    for name, inner in struct.items():
        found += [f"{prefix}{name}"] if inner is None else paths(inner, f"{prefix}{name}/")
    return found


def put(body: dict[str, Any], path: str, value: str) -> None:
    """Set ``path`` (``a/b/c``) in a nested dict, making the groups on the way."""
    *groups, leaf = path.split("/")
    for group in groups:
        body = body.setdefault(group, {})
    body[leaf] = value
