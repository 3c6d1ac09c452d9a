"""Transcode over real FFmpeg, checked by probing the outputs (never by comparing bytes)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from cosflow.media import ffmpeg
from cosflow.media.base import Job, MediaError, Product
from cosflow.media.presets import PRESETS, markdown_table, preset_id
from cosflow.media.probe import probe
from cosflow.media.transcode import Transcode
from cosflow.media.transcode_plan import parse, plan, source_codec
from tests.support.media import make_audio, make_video

Run = Callable[..., list[Product]]
DOCS = Path(__file__).resolve().parents[2] / "docs" / "presets.md"
MP4 = "<Container><Format>mp4</Format></Container>"
HLS_1S = "<Container><Format>hls</Format><ClipConfig><Duration>1</Duration></ClipConfig></Container>"


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("media")
    return {
        "clip": make_video(folder / "clip.mp4", seconds=3, width=320, height=240),
        "mute": make_video(folder / "mute.mp4", seconds=1, width=320, height=240, audio=False),
        "wide": make_video(folder / "wide.mp4", seconds=3, width=640, height=360),
        "wav": make_audio(folder / "tone.wav", seconds=2),
    }


def _clip(start: float, duration: float) -> str:
    return f"<TimeInterval><Start>{start}</Start><Duration>{duration}</Duration></TimeInterval>"


def _template(xml: str) -> ET.Element:
    return ET.fromstring(f"<Transcode>{xml}</Transcode>")


@pytest.fixture
def transcode(work: Path) -> Run:
    def run(xml: str, *sources: Path, progress: list[float] | None = None) -> list[Product]:
        job = Job("Transcode", sources, tuple(p.name for p in sources), None, _template(xml), work, 120)
        return Transcode()(job, (progress if progress is not None else []).append)

    return run


@dataclass(frozen=True)
class Streams:
    video: dict[str, object] | None
    audio: dict[str, object] | None


def _streams(path: Path) -> Streams:
    """What PyAV sees of the first video and audio streams (read while the file is open)."""
    with av.open(str(path)) as container:
        video = audio = None
        if container.streams.video:
            ctx = container.streams.video[0].codec_context
            video = {"codec": ctx.name, "tag": ctx.codec_tag, "size": (ctx.width, ctx.height), "profile": ctx.profile}
        if container.streams.audio:
            actx = container.streams.audio[0].codec_context
            audio = {"codec": actx.name, "rate": actx.sample_rate, "channels": actx.channels}
        return Streams(video, audio)


def _video_packets(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        return [p.size for p in container.demux(video=0) if p.size]


def _decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


# --- streams are copied when the source already fits --------------------------------------------


def test_fitting_source_is_copied_not_reencoded(transcode: Run, media: dict[str, Path]) -> None:
    settings = parse(_template("<Container><Format>mp4</Format></Container>"))
    args = plan(probe(media["clip"]), settings, media["clip"], Path("out.mp4"))
    assert args[args.index("-c:v") + 1] == "copy" and args[args.index("-c:a") + 1] == "copy"
    [product] = transcode("<Container><Format>mp4</Format></Container>", media["clip"])
    assert product.ext == "mp4" and product.source_index == 0
    assert _video_packets(product.path) == _video_packets(media["clip"])


def test_any_change_reencodes(media: dict[str, Path]) -> None:
    info = probe(media["clip"])
    for video in ("<Width>160</Width>", "<Crf>30</Crf>", "<Fps>10</Fps>", "<Bitrate>300</Bitrate>"):
        settings = parse(_template(f"<Container><Format>mp4</Format></Container><Video>{video}</Video>"))
        args = plan(info, settings, media["clip"], Path("o.mp4"))
        assert args[args.index("-c:v") + 1] == "libx264", video
    clipped = parse(
        _template("<Container><Format>mkv</Format></Container><TimeInterval><Start>1</Start></TimeInterval>")
    )
    args = plan(info, clipped, media["clip"], Path("o.mkv"))
    assert "copy" not in args
    same = parse(_template("<Container><Format>flv</Format></Container><Video><Width>320</Width><Fps>25</Fps></Video>"))
    assert plan(info, same, media["clip"], Path("o.flv")).count("copy") == 2


# --- video codecs, sizes, containers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("<Width>201</Width>", (200, 150)),
        ("<Height>180</Height>", (240, 180)),
        ("<Width>256</Width><Height>144</Height>", (256, 144)),
    ],
)
def test_h264_resize_keeps_aspect_and_even_sizes(
    transcode: Run, media: dict[str, Path], size: str, expected: tuple[int, int]
) -> None:
    video = f"<Codec>H.264</Codec>{size}<Profile>baseline</Profile><Preset>veryfast</Preset>"
    xml = f"<Container><Format>mp4</Format></Container><Video>{video}</Video>"
    [product] = transcode(xml, media["clip"])
    info = probe(product.path)
    assert info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("h264", *expected)
    assert abs(info.duration - 3.0) < 0.1
    video = _streams(product.path).video
    assert video is not None and "Baseline" in str(video["profile"])


def test_h265_in_mp4_is_tagged_hvc1(transcode: Run, media: dict[str, Path]) -> None:
    xml = MP4 + "<Video><Codec>H.265</Codec><Height>180</Height><Preset>ultrafast</Preset></Video>"
    [product] = transcode(xml, media["clip"])
    streams = _streams(product.path)
    assert streams.video == {"codec": "hevc", "tag": "hvc1", "size": (240, 180), "profile": "Main"}
    assert streams.audio is not None and streams.audio["codec"] == "aac"


def test_vp9_webm_with_opus(transcode: Run, media: dict[str, Path]) -> None:
    xml = (
        "<Container><Format>WebM</Format></Container>"
        "<Video><Codec>VP9</Codec><Width>160</Width><Preset>realtime</Preset></Video>"
        "<Audio><Codec>opus</Codec><Channels>2</Channels><Bitrate>64</Bitrate></Audio>"
    )
    [product] = transcode(xml, media["clip"])
    info = probe(product.path)
    assert product.ext == "webm" and info.video is not None and info.audio is not None
    assert (info.video.codec, info.video.width, info.video.height) == ("vp9", 160, 120)
    assert (info.audio.codec, info.audio.sample_rate, info.audio.channels) == ("opus", 48000, 2)
    assert abs(info.duration - 3.0) < 0.1


def test_av1_in_mp4(transcode: Run, media: dict[str, Path]) -> None:
    xml = MP4 + "<Video><Codec>AV1</Codec><Preset>12</Preset><Crf>40</Crf></Video>"
    [product] = transcode(xml, media["mute"])
    info = probe(product.path)
    assert info.video is not None and source_codec(info.video.codec) == "av1" and info.audio is None
    assert _decoded_frames(product.path) == 25


@pytest.mark.parametrize("container", ["flv", "mkv", "mov", "ts"])
def test_other_video_containers(transcode: Run, media: dict[str, Path], container: str) -> None:
    video = "<Fps>10</Fps><Gop>10</Gop><Bitrate>200</Bitrate><Preset>veryfast</Preset>"
    [product] = transcode(f"<Container><Format>{container}</Format></Container><Video>{video}</Video>", media["clip"])
    info = probe(product.path)
    assert product.ext == container and info.video is not None and info.audio is not None
    assert (info.video.codec, info.audio.codec, round(info.video.fps)) == ("h264", "aac", 10)
    assert _decoded_frames(product.path) == 30  # 3 s at 10 fps (flv shifts its start, so no duration check)


def test_time_interval_clips(transcode: Run, media: dict[str, Path]) -> None:
    xml = MP4 + "<Video><Preset>veryfast</Preset></Video>" + _clip(0.5, 1.2)
    [product] = transcode(xml, media["clip"])
    info = probe(product.path)
    assert abs(info.duration - 1.2) < 0.1
    assert abs(_decoded_frames(product.path) - 30) <= 1  # 1.2 s at 25 fps, give or take the edge frame


def test_remove_audio_and_remove_video(transcode: Run, media: dict[str, Path]) -> None:
    [silent] = transcode(
        "<Container><Format>mp4</Format></Container><Audio><Remove>true</Remove></Audio>", media["clip"]
    )
    assert _streams(silent.path).audio is None and _streams(silent.path).video is not None
    [sound] = transcode(
        "<Container><Format>mkv</Format></Container><Video><Remove>true</Remove></Video>", media["clip"]
    )
    assert _streams(sound.path).video is None and _streams(sound.path).audio is not None


# --- audio-only containers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("container", "audio", "codec", "rate", "channels"),
    [
        ("mp3", "<Samplerate>22050</Samplerate><Bitrate>64</Bitrate>", "mp3", 22050, 1),
        ("m4a", "<Channels>2</Channels>", "aac", 44100, 2),
        ("aac", "<Samplerate>48000</Samplerate>", "aac", 48000, 1),
        ("flac", "", "flac", 44100, 1),
    ],
)
def test_audio_containers(
    transcode: Run, media: dict[str, Path], container: str, audio: str, codec: str, rate: int, channels: int
) -> None:
    [product] = transcode(f"<Container><Format>{container}</Format></Container><Audio>{audio}</Audio>", media["clip"])
    info = probe(product.path)
    assert product.ext == container and info.video is None and info.audio is not None
    assert (source_codec(info.audio.codec), info.audio.sample_rate, info.audio.channels) == (codec, rate, channels)
    assert abs(info.duration - 3.0) < 0.1


def test_audio_clip_from_wav(transcode: Run, media: dict[str, Path]) -> None:
    xml = "<Container><Format>mp3</Format></Container>" + _clip(0.5, 1)
    [product] = transcode(xml, media["wav"])
    assert abs(probe(product.path).duration - 1.0) < 0.1


# --- HLS ----------------------------------------------------------------------------------------


def _check_hls(product: Product, segment_ext: str, target: int) -> list[str]:
    assert product.ext == "m3u8"
    lines = product.path.read_text().splitlines()
    assert "#EXT-X-ENDLIST" in lines and "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    assert f"#EXT-X-TARGETDURATION:{target}" in lines
    segments = [line for line in lines if line and not line.startswith("#")]
    assert segments and all("/" not in s and s.endswith(f".{segment_ext}") for s in segments)
    assert {p.name for p in product.companions} >= set(segments)
    assert all(p.parent == product.path.parent for p in product.companions)
    extinf = [float(line[8:].rstrip(",")) for line in lines if line.startswith("#EXTINF:")]
    assert abs(sum(extinf) - 3.0) < 0.15
    return segments


def test_hls_h264_ts_segments_each_decode(transcode: Run, media: dict[str, Path]) -> None:
    xml = HLS_1S + "<Video><Height>180</Height><Preset>veryfast</Preset></Video>"
    [product] = transcode(xml, media["clip"])
    segments = _check_hls(product, "ts", 1)
    assert len(segments) == 3
    for name in segments:
        assert _decoded_frames(product.path.parent / name) >= 20
        streams = _streams(product.path.parent / name)
        assert streams.video is not None and streams.audio is not None and streams.video["size"] == (240, 180)


def test_hls_h265_fmp4_segments_each_decode(transcode: Run, media: dict[str, Path], tmp_path: Path) -> None:
    xml = HLS_1S + "<Video><Codec>H.265</Codec><Preset>ultrafast</Preset></Video>"
    [product] = transcode(xml, media["clip"])
    segments = _check_hls(product, "m4s", 1)
    text = product.path.read_text()
    assert '#EXT-X-MAP:URI="init.mp4"' in text
    init = (product.path.parent / "init.mp4").read_bytes()
    for name in segments:
        joined = tmp_path / f"joined-{name}.mp4"
        joined.write_bytes(init + (product.path.parent / name).read_bytes())
        video = _streams(joined).video
        assert video is not None and (video["codec"], video["tag"]) == ("hevc", "hvc1")
        assert _decoded_frames(joined) >= 20


def test_hls_copies_a_fitting_source(media: dict[str, Path]) -> None:
    settings = parse(_template("<Container><Format>hls</Format></Container>"))
    args = plan(probe(media["clip"]), settings, media["clip"], Path("/w/index.m3u8"))
    assert args.count("copy") == 2 and args[args.index("-hls_time") + 1] == "5"
    assert args[args.index("-hls_segment_filename") + 1] == "/w/seg-%05d.ts"


# --- progress, several inputs -------------------------------------------------------------------


def test_progress_rises_to_one(transcode: Run, media: dict[str, Path]) -> None:
    seen: list[float] = []
    transcode(
        "<Container><Format>mp4</Format></Container><Video><Codec>H.265</Codec><Preset>veryfast</Preset></Video>",
        media["wide"],
        progress=seen,
    )
    assert len(seen) >= 2 and seen == sorted(seen) and len(set(seen)) == len(seen)
    assert seen[-1] == pytest.approx(1.0) and all(0 < v <= 1 for v in seen)


def test_one_product_per_input(transcode: Run, media: dict[str, Path]) -> None:
    products = transcode("<Container><Format>m4a</Format></Container>", media["clip"], media["wav"])
    assert [p.source_index for p in products] == [0, 1] and len({p.path for p in products}) == 2
    assert Transcode().product_count(None, _template("<Container><Format>mp4</Format></Container>")) == 1


def test_product_count_raises_on_an_unusable_template() -> None:
    for template in (_template("<Container><Format>mp4</Format></Container><Video><Crf>70</Crf></Video>"), None):
        with pytest.raises(MediaError) as caught:
            Transcode().product_count(None, template)
        assert caught.value.code == "InvalidArgument" and caught.value.message


# --- failures -----------------------------------------------------------------------------------


def _bad_inputs(folder: Path, clip: Path) -> dict[str, Path]:
    data = clip.read_bytes()
    files = {"empty": b"", "garbage": b"not a video at all " * 400, "truncated": data[: len(data) // 2]}
    paths = {name: folder / f"{name}.mp4" for name in files}
    for name, content in files.items():
        paths[name].write_bytes(content)
    faststart = folder / "faststart.mp4"
    make_video(faststart, seconds=3, width=320, height=240)  # then move the index to the front and cut it
    ffmpeg.run(["-i", str(faststart), "-c", "copy", "-movflags", "+faststart", str(folder / "fs.mp4")], timeout=60)
    front = (folder / "fs.mp4").read_bytes()
    paths["truncated-faststart"] = folder / "cut.mp4"
    paths["truncated-faststart"].write_bytes(front[: len(front) // 2])
    return paths


def test_corrupt_inputs_are_invalid_input_and_leave_nothing(
    transcode: Run, media: dict[str, Path], work: Path, tmp_path: Path
) -> None:
    for name, path in _bad_inputs(tmp_path, media["clip"]).items():
        with pytest.raises(MediaError) as caught:
            transcode(
                "<Container><Format>mp4</Format></Container><Video><Preset>ultrafast</Preset><Crf>30</Crf></Video>",
                path,
            )
        assert caught.value.code == "InvalidInput", (name, caught.value.message)
        assert caught.value.message and "Traceback" not in caught.value.message
        assert list(work.iterdir()) == [], name


@pytest.mark.parametrize(
    "xml",
    [
        "<Container><Format>webm</Format></Container><Video><Codec>H.264</Codec></Video>",
        "<Container><Format>flv</Format></Container><Video><Codec>H.265</Codec></Video>",
        "<Container><Format>mp4</Format></Container><Audio><Codec>opus</Codec></Audio>",
        "<Container><Format>mp3</Format></Container><Audio><Codec>aac</Codec></Audio>",
        "<Container><Format>webm</Format></Container><Audio><Codec>opus</Codec><Samplerate>44100</Samplerate></Audio>",
        "<Container><Format>mp3</Format></Container><Audio><Channels>6</Channels></Audio>",
        "<Container><Format>avi3</Format></Container>",
        "<Video><Codec>H.264</Codec></Video>",
        "<Container><Format>mp4</Format></Container><Video><Crf>70</Crf></Video>",
        "<Container><Format>mp4</Format></Container><Video><Width>5000</Width></Video>",
        "<Container><Format>mp4</Format></Container><Video><Fps>fast</Fps></Video>",
        "<Container><Format>mp4</Format></Container><Video><Preset>realtime</Preset></Video>",
        MP4 + "<Video><Remove>true</Remove></Video><Audio><Remove>true</Remove></Audio>",
        "<Container><Format>m4a</Format></Container><Audio><Remove>true</Remove></Audio>",
        "<Container><Format>mp4</Format></Container><TimeInterval><Start>10</Start></TimeInterval>",
    ],
)
def test_unusable_templates_are_invalid_argument(transcode: Run, media: dict[str, Path], work: Path, xml: str) -> None:
    with pytest.raises(MediaError) as caught:
        transcode(xml, media["mute"])
    assert caught.value.code == "InvalidArgument" and caught.value.message
    assert list(work.iterdir()) == []


def test_missing_template_is_invalid_argument(work: Path, media: dict[str, Path]) -> None:
    job = Job("Transcode", (media["clip"],), ("clip.mp4",), None, None, work, 60)
    with pytest.raises(MediaError, match="Container/Format") as caught:
        Transcode()(job, lambda _: None)
    assert caught.value.code == "InvalidArgument"


@pytest.mark.parametrize(("container", "source"), [("mp4", "wav"), ("hls", "wav"), ("mp3", "mute"), ("flac", "mute")])
def test_input_without_the_needed_stream(
    transcode: Run, media: dict[str, Path], work: Path, container: str, source: str
) -> None:
    with pytest.raises(MediaError) as caught:
        transcode(f"<Container><Format>{container}</Format></Container>", media[source])
    assert caught.value.code == "InvalidInput" and "stream" in caught.value.message
    assert list(work.iterdir()) == []


# --- presets ------------------------------------------------------------------------------------


def test_presets_are_valid_stable_and_unique() -> None:
    names = {p.name for p in PRESETS}
    expected = {f"{c}-{f}-{r}" for c in ("MP4", "HLS") for f in ("H264", "265") for r in ("SD", "HD", "FHD")}
    assert expected | {"MP3-128K", "AAC-128K", "Snapshot-Default", "GIF-Default", "WebP-Default", "HLS-FHD"} <= names
    assert len(names) == len(PRESETS) and len({p.template_id for p in PRESETS}) == len(PRESETS)
    for preset in PRESETS:
        assert preset.template_id == "t" + hashlib.sha1(preset.name.encode()).hexdigest()[:33]
        assert preset.template_id == preset_id(preset.name) and len(preset.template_id) == 34
        body = ET.fromstring(preset.body_xml)
        assert body.tag == preset.tag and len(body)
        if preset.tag == "Transcode":
            parse(body)  # every Transcode preset is usable as is
    assert preset_id("HLS-FHD") == "t35b23428e19beac1c45e252447c143238"  # fixed forever
    snapshot = next(p for p in PRESETS if p.name == "Snapshot-Default")
    assert ET.fromstring(snapshot.body_xml).findtext("Snapshot/Mode") == "Average"


def test_presets_doc_is_generated_from_the_data() -> None:
    assert markdown_table() in DOCS.read_text()
    assert all(p.template_id in markdown_table() for p in PRESETS)


def test_an_fhd_preset_runs(transcode: Run, work: Path, tmp_path: Path) -> None:
    source = make_video(tmp_path / "fhd.mp4", seconds=2, width=1920, height=1080, fps=10)
    body = next(p for p in PRESETS if p.name == "HLS-H264-FHD").body_xml
    job = Job("Transcode", (source,), ("fhd.mp4",), None, ET.fromstring(body.replace("medium", "ultrafast")), work, 120)
    [product] = Transcode()(job, lambda _: None)
    first = product.path.parent / product.path.read_text().splitlines()[-2]
    streams = _streams(first)
    assert streams.video is not None and streams.video["size"] == (1920, 1080)
    assert streams.audio is not None and (streams.audio["rate"], streams.audio["channels"]) == (44100, 2)
