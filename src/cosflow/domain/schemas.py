"""The field tables (see :mod:`cosflow.domain.fields`): what cosflow honours in each body, and the
Tencent fields it knows and refuses.

Honoured paths are exactly those read by the code: the processors (``media/transcode_plan.parse``,
``media/snapshot.parse_params`` + ``media/sprites.parse_config``, ``media/animation.parse_params``,
``media/smartcover.parse_params``, ``media/segment.parse_params``, ``media/picprocess.rule_text``),
the engine (``domain/topology``, ``services/runner`` output names, ``domain/notify``,
``domain/extfilter``) and the services. Tencent's fields come from spec §5 (workflows), §8.2
(queues), §10.1 (templates) and the structs of cos-go-sdk-v5 ``ci_media.go`` (``Video``, ``Audio``,
``TransConfig``, ``Snapshot``, ``SpriteSnapshotConfig``, ``AnimationVideo``, ``Segment``,
``NodeOperation``, ``NodeInput``, ``NodeOutput``, ``NotifyConfig``, ``ExtFilter``, ``PicProcess``).
``tests/e2e/test_fields.py`` sends every field of those structs (transcribed independently in
``tests/support/tencent_fields.py``) to the server and checks it is honoured or refused as these
tables say; ``tests/unit/test_fields.py`` checks each honoured field is read.
"""

from __future__ import annotations

import re

from cosflow.domain.fields import BOOL, GIVEN, HONOURED, Delegated, Honoured, Ignored, Rule, Schema, Unsupported, When

#: Transcode containers without a video stream (``media/transcode_plan.CONTAINERS``; a unit test
#: keeps the two in step).
AUDIO_ONLY = ("mp3", "m4a", "aac", "flac", "wav")
_H264 = ("h.264", "h264", "avc")
_OFF = ("false",)


def _all(prefix: str, names: str, rule: Rule = HONOURED) -> dict[str, Rule]:
    return {f"{prefix}{name}": rule for name in names.split()}


def _off_only(reason: str) -> Honoured:
    """A switch cosflow honours only switched off (``false``): on, it names a missing feature."""
    return Honoured(values=_OFF, refused=reason)


# --- templates (spec §10.1) ---------------------------------------------------------------------
_VIDEO_ON = (When("Container/Format", AUDIO_ONLY, negate=True), When("Video/Remove", ("", "false")))
_AUDIO_ON = (When("Audio/Remove", ("", "false")),)
_AUDIO_BITRATE = (
    *_AUDIO_ON,
    When("Audio/Codec", ("flac", "pcm_s16le", "pcm"), negate=True),
    When("Container/Format", ("flac", "wav"), negate=True),
)
_NO_ANIMATE = Unsupported("an Animation template field; a Transcode template does not take it")

TRANSCODE_TEMPLATE: dict[str, Rule] = {
    "Container/Format": HONOURED,
    "Container/ClipConfig/Duration": Honoured(when=(When("Container/Format", ("hls", "m3u8")),)),
    "Video/Remove": Honoured(values=BOOL),
    **_all("Video/", "Codec Width Height Fps Gop Preset Pixfmt Maxrate Crf", Honoured(when=_VIDEO_ON)),
    # H.264 only; an absent Codec is H.264 in every container but WebM (transcode_plan.CONTAINERS).
    "Video/Profile": Honoured(
        when=_VIDEO_ON,
        requires=(When("Video/Codec", (*_H264, "")), When("Container/Format", ("webm",), negate=True)),
    ),
    "Video/Bitrate": Honoured(when=_VIDEO_ON, requires=(When("Video/Crf", ("",)),)),  # Crf wins
    "Video/Bufsize": Honoured(when=(*_VIDEO_ON, When("Video/Maxrate", GIVEN))),
    "Video/HlsTsTime": Unsupported("segment timing per TS file is not implemented; use Container/ClipConfig/Duration"),
    "Video/DashSegment": Unsupported("DASH output is not implemented"),
    "Video/LongShortMode": _off_only("long/short side sizing is not implemented"),
    "Video/Rotate": Unsupported("rotation is not implemented"),
    "Video/Roi": Honoured(values=("none",), refused="region-of-interest encoding is not implemented"),
    "Video/Crop": Unsupported("cropping is not implemented"),
    "Video/Interlaced": _off_only("interlaced output is not implemented"),
    "Video/ColorParam": Unsupported("colour parameters are not implemented"),
    "Video/StdExtInfo": Unsupported("encoder extension options are not implemented"),
    **_all("Video/", "AnimateOnlyKeepKeyFrame AnimateTimeIntervalOfFrame AnimateFramesPerSecond Quality", _NO_ANIMATE),
    "Audio/Remove": Honoured(values=BOOL),
    **_all("Audio/", "Codec Samplerate Channels", Honoured(when=_AUDIO_ON)),
    "Audio/Bitrate": Honoured(when=_AUDIO_BITRATE),
    "Audio/KeepTwoTracks": _off_only("keeping two audio tracks is not implemented"),
    "Audio/SwitchTrack": _off_only("switching audio tracks is not implemented"),
    "Audio/SampleFormat": Unsupported("choosing the sample format is not implemented"),
    "TimeInterval/Start": HONOURED,
    "TimeInterval/Duration": HONOURED,
    "TransConfig/AdjDarMethod": Honoured(when=(When("Video/Width", GIVEN), When("Video/Height", GIVEN))),
    "TransConfig/DeleteMetadata": Honoured(values=BOOL),
    "TransConfig/IsCheckReso": _off_only("resolution checks are not implemented"),
    "TransConfig/ResoAdjMethod": Unsupported("resolution checks are not implemented"),
    "TransConfig/IsCheckVideoBitrate": _off_only("video bitrate checks are not implemented"),
    "TransConfig/VideoBitrateAdjMethod": Unsupported("video bitrate checks are not implemented"),
    "TransConfig/IsCheckAudioBitrate": _off_only("audio bitrate checks are not implemented"),
    "TransConfig/AudioBitrateAdjMethod": Unsupported("audio bitrate checks are not implemented"),
    "TransConfig/IsCheckVideoFps": _off_only("frame rate checks are not implemented"),
    "TransConfig/VideoFpsAdjMethod": Unsupported("frame rate checks are not implemented"),
    "TransConfig/IsHdr2Sdr": _off_only("HDR to SDR conversion is not implemented"),
    "TransConfig/TranscodeIndex": Unsupported("choosing the source stream is not implemented"),
    "TransConfig/HlsEncrypt/IsHlsEncrypt": _off_only("HLS encryption is not implemented"),
    "TransConfig/HlsEncrypt/UriKey": Unsupported("HLS encryption is not implemented"),
    "TransConfig/DashEncrypt/IsEncrypt": _off_only("DASH encryption is not implemented"),
    "TransConfig/DashEncrypt/UriKey": Unsupported("DASH encryption is not implemented"),
    "TransConfig/AIGCMetadata": Unsupported("AIGC metadata is not implemented"),
    "AudioMix": Unsupported("audio mixing is not implemented"),
    "AudioMixArray": Unsupported("audio mixing is not implemented"),
    "Subtitle": Unsupported("subtitle handling is not implemented"),
}

_INTERVAL = When("Snapshot/Mode", ("", "interval"))
_SPRITES = (When("Snapshot/SnapshotOutMode", ("onlysprite", "snapshotandsprite")),)
_CIPARAM = re.compile(r"/?imageMogr2(?:/format/(?:[Jj][Pp][Ee]?[Gg]|[Pp][Nn][Gg]|[Ww][Ee][Bb][Pp])|/quality/\d+)+/?")

SNAPSHOT_TEMPLATE: dict[str, Rule] = {
    **_all("Snapshot/", "Mode Start Count Width Height SnapshotOutMode"),
    "Snapshot/TimeInterval": Honoured(when=(_INTERVAL,)),
    "Snapshot/CIParam": Honoured(
        pattern=_CIPARAM, shape="one imageMogr2 rule of /format/<jpg|png|webp> and /quality/<n>"
    ),
    "Snapshot/IsCheckCount": Honoured(values=BOOL, when=(_INTERVAL, When("Snapshot/TimeInterval", GIVEN))),
    "Snapshot/IsCheckBlack": Honoured(values=BOOL),
    **_all("Snapshot/", "BlackLevel PixelBlackThreshold", Honoured(when=(When("Snapshot/IsCheckBlack", ("true",)),))),
    **_all(
        "Snapshot/SpriteSnapshotConfig/",
        "CellHeight CellWidth Color Columns Lines Margin Padding ScaleMethod",
        Honoured(when=_SPRITES),
    ),
}

ANIMATION_TEMPLATE: dict[str, Rule] = {
    "Container/Format": HONOURED,
    "Container/ClipConfig/Duration": Ignored("segment length applies to HLS output, and an animation never is"),
    **_all("Video/", "Codec Width Height Fps AnimateTimeIntervalOfFrame AnimateFramesPerSecond"),
    # WebP only (media/animation: the format is Container/Format, else Video/Codec)
    "Video/Quality": Honoured(
        when=(When("Container/Format", ("gif", "hgif"), negate=True), When("Video/Codec", ("gif",), negate=True))
    ),
    "Video/AnimateOnlyKeepKeyFrame": Honoured(values=BOOL),
    "TimeInterval/Start": HONOURED,
    "TimeInterval/Duration": HONOURED,
}

SMARTCOVER_FIELDS: dict[str, Rule] = {
    **_all("", "Format Width Height Count"),
    "DeleteDuplicates": Honoured(values=BOOL),
}

PICPROCESS_TEMPLATE: dict[str, Rule] = {
    "PicProcess/ProcessRule": HONOURED,
    "PicProcess/IsPicInfo": _off_only("returning image information is not implemented"),
}

#: The request around every template body: identity, time and category fields of a GET response
#: are accepted and ignored so that a response can be sent back (docs/design-choices.md); a
#: template made through the API is Custom whatever ``Category`` says (spec §10.1: Create answers
#: ``Category=Custom``; the request defines no Category).
_TEMPLATE_REQUEST: dict[str, Rule] = {
    "Tag": HONOURED,
    "Name": HONOURED,
    "TemplateId": Ignored("response-only; on update it must name the template in the path"),
    "Category": Ignored("response-only; a template made through the API is Custom"),
    **_all("", "BucketId CreateTime UpdateTime", Ignored("response-only")),
}

#: Tags whose parameters a request gives at its top level (``<Container>``, ``<Video>``) but a GET
#: answer wraps in one container (spec §10.1 "Tag → request body / response container": Go and Java
#: parse Transcode's ``TransTpl`` and Animation's ``Animation``; an old doc shows ``TransTpl`` for
#: Animation). The first is the one cosflow answers with; a request may give any of them, opened.
RESPONSE_CONTAINERS: dict[str, tuple[str, ...]] = {"Transcode": ("TransTpl",), "Animation": ("Animation", "TransTpl")}


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'AEIOU' else 'a'} {noun}"


#: Template Tag -> the fields of its request. Only Tags some node of cosflow uses are here.
TEMPLATES: dict[str, Schema] = {
    tag: Schema(_a(f"{tag} template"), {**_TEMPLATE_REQUEST, **fields})
    for tag, fields in (
        ("Transcode", TRANSCODE_TEMPLATE),
        ("Snapshot", SNAPSHOT_TEMPLATE),
        ("Animation", ANIMATION_TEMPLATE),
        ("SmartCover", {f"SmartCover/{path}": rule for path, rule in SMARTCOVER_FIELDS.items()}),
        ("PicProcess", PICPROCESS_TEMPLATE),
    )
}

#: Template Tags the CI service defines (spec §10.1, cos-go-sdk-v5 ``CreateMedia*TemplateOptions``).
TENCENT_TAGS = frozenset(
    "Transcode Snapshot Animation SmartCover PicProcess Watermark Concat VoiceSeparate VideoMontage "
    "VideoProcess SuperResolution HighSpeedHd TranscodePro Tts SpeechRecognition NoiseReduction "
    "VideoEnhance VideoTargetRec ImageOCR".split()
)

# --- workflows (spec §5) ------------------------------------------------------------------------
_TDMQ = Unsupported("TDMQ notifications are not implemented; use Type Url")
NOTIFY_FIELDS: dict[str, Rule] = {
    **_all("", "Url Event ResultFormat State SigningSecret"),
    "Type": Honoured(values=("url",), refused="only Url notifications are implemented"),
    **_all("", "MqMode MqRegion MqName", _TDMQ),
    "KafkaConfig": Unsupported("Kafka notifications are not implemented; use Type Url"),
}

START_NODE = Schema(
    "the Start node",
    {
        "Type": HONOURED,
        **_all("Input/", "ObjectPrefix QueueId PicProcessQueueId"),
        **{f"Input/NotifyConfig/{path}": rule for path, rule in NOTIFY_FIELDS.items()},
        **_all("Input/ExtFilter/", "State Video Audio Image ContentType Custom AllFile"),
        "Input/ExtFilter/CustomExts": Honoured(when=(When("Input/ExtFilter/Custom", ("true",)),)),  # spec §5.3
        "Input/ExtFilter/AutoContentType": Unsupported("automatic Content-Type detection is not implemented"),
        "Input/SamplingConfig": Unsupported("sampled triggering is not implemented: every matching upload runs"),
        "Input/SpeechRecognitionQueueId": Unsupported("cosflow runs no SpeechRecognition node"),
        "Input/AIProcessQueueId": Unsupported("cosflow runs no AI node"),
    },
)


def _elsewhere(node_types: str) -> Unsupported:
    return Unsupported(f"it belongs to {node_types} nodes, which cosflow does not run")


_TASK_NODE: dict[str, Rule] = {
    "Type": HONOURED,
    "Input": Unsupported("a task node's input is its parents' output; only the Start node takes Input"),
    "Operation/TemplateId": Unsupported("this node Type takes no template"),
    **_all("Operation/Output/", "Region Bucket Object"),  # Region: the server's own (topology.validate)
    "Operation/Output/SpriteObject": Unsupported("only Snapshot nodes make sprite sheets"),
    **_all("Operation/Output/", "AuObject BassObject DrumObject", _elsewhere("VoiceSeparate")),
    "Operation/Output/StreamExtract": Unsupported("stream extraction is not implemented"),
    "Operation/WatermarkTemplateId": Unsupported("watermarks are not implemented"),
    "Operation/RemoveWatermark": Unsupported("watermark removal is not implemented"),
    "Operation/DelogoParam": Unsupported("watermark removal is not implemented"),
    "Operation/DigitalWatermark": Unsupported("digital watermarks are not implemented"),
    "Operation/TranscodeTemplateId": _elsewhere("SDRtoHDR, VideoProcess, SuperResolution and VideoEnhance"),
    "Operation/TranscodeConfig": Unsupported("FreeTranscode is a Tencent billing option"),
    "Operation/Input": Unsupported("speed-transcoding queues are not implemented"),
    "Operation/DocAIGCMetadata": Unsupported("AIGC metadata is not implemented"),
    "Operation/SmartCover": Unsupported("inline SmartCover parameters belong to SmartCover nodes"),
    "Operation/Segment": Unsupported("inline Segment parameters belong to Segment nodes"),
    "Operation/SDRtoHDR": _elsewhere("SDRtoHDR"),
    "Operation/SCF": _elsewhere("SCF"),
    "Operation/HlsPackInfo": _elsewhere("StreamPack"),
    "Operation/StreamPackInfo": _elsewhere("StreamPack"),
    "Operation/StreamPackConfig": _elsewhere("StreamPackConfig"),
    "Operation/Condition": _elsewhere("Condition"),
    "Operation/SegmentVideoBody": _elsewhere("SegmentVideoBody"),
    "Operation/ImageInspect": _elsewhere("ImageInspect"),
}
_TEMPLATE_ID: dict[str, Rule] = {"Operation/TemplateId": HONOURED}
_WITHOUT_TEMPLATE = (When("Operation/TemplateId", ("",)),)

_NODE_FIELDS: dict[str, dict[str, Rule]] = {
    "Transcode": _TEMPLATE_ID,
    "Animation": _TEMPLATE_ID,
    "PicProcess": _TEMPLATE_ID,
    "Snapshot": {**_TEMPLATE_ID, "Operation/Output/SpriteObject": HONOURED},
    "SmartCover": {
        **_TEMPLATE_ID,
        **{
            f"Operation/SmartCover/{path}": Honoured(rule.values, requires=_WITHOUT_TEMPLATE)
            for path, rule in SMARTCOVER_FIELDS.items()
            if isinstance(rule, Honoured)
        },
    },
    "Segment": {
        "Operation/TemplateId": Unsupported("a Segment node takes its parameters inline, in Operation/Segment"),
        **_all("Operation/Segment/", "Format Duration StartTime EndTime"),
        "Operation/Segment/HlsEncrypt/IsHlsEncrypt": _off_only("HLS encryption is not implemented"),
        "Operation/Segment/HlsEncrypt/UriKey": Unsupported("HLS encryption is not implemented"),
        "Operation/Segment/TranscodeIndex": Unsupported("choosing the source stream is not implemented"),
        "Operation/Segment/AIGCMetadata": Unsupported("AIGC metadata is not implemented"),
    },
}


def _override(base: dict[str, Rule], extra: dict[str, Rule]) -> dict[str, Rule]:
    """``base`` with ``extra``'s rules; a group ``extra`` opens up (``Operation/SmartCover``) leaves ``base``."""
    groups = {"/".join(path.split("/")[:i]) for path in extra for i in range(1, path.count("/") + 1)}
    return {**{p: r for p, r in base.items() if p not in groups}, **extra}


#: Node Type -> the fields of its node element (Type, Input, Operation). Only Types with a processor.
NODES: dict[str, Schema] = {
    "Start": START_NODE,
    **{
        node_type: Schema(_a(f"{node_type} node"), _override(_TASK_NODE, extra))
        for node_type, extra in _NODE_FIELDS.items()
    },
}

#: ``<MediaWorkflow>``; the nodes are checked one by one against :data:`NODES`.
WORKFLOW = Schema(
    "MediaWorkflow",
    {
        "Name": HONOURED,
        "State": HONOURED,
        "Topology/Dependencies": Delegated(),
        "Topology/Nodes": Delegated(),
        "WorkflowId": Ignored("response-only; on update it must name the workflow in the path"),
        **_all("", "BucketId CreateTime UpdateTime", Ignored("response-only")),
    },
)
