#!/usr/bin/python3
"""Serves an H.264 MP4 file as a live RTSP camera, for tests and demos.

    /usr/bin/python3 tools/rtsp_server.py --file video.mp4 [--port 8554] [--path /cam]

Each client gets the file from its beginning at its native speed (the way a camera delivers
frames), over RTSP/TCP-interleaved or RTP/UDP as the client asks. Prints "ready <port>" on
stdout once listening (--port 0 picks a free port), then serves until SIGINT/SIGTERM.

Needs the system Python's GStreamer bindings (python3-gi, gir1.2-gst-rtsp-server-1.0,
gstreamer1.0-plugins-{base,good,bad}); exits with status 3 and a message naming the missing
package when they are absent, so callers can skip instead of fail.
"""

import argparse
import os
import signal
import sys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", required=True, help="H.264 MP4 file to serve")
    parser.add_argument("--port", type=int, default=8554, help="TCP port; 0 picks a free one")
    parser.add_argument("--path", default="/cam", help="stream path, e.g. /cam")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args()

    if not os.path.isfile(args.file):
        print(f"error: video file not found: {args.file}", file=sys.stderr)
        return 2
    if not args.path.startswith("/"):
        print("error: --path must start with '/'", file=sys.stderr)
        return 2

    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as e:
        print(
            f"unavailable: GStreamer RTSP server Python bindings missing ({e}); install "
            "python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-good "
            "gstreamer1.0-plugins-bad",
            file=sys.stderr,
        )
        return 3

    Gst.init(None)
    # The launch line is parsed by gst_parse_launch: quote the location for it.
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    launch = (
        f'( filesrc location="{location}" ! qtdemux name=demux demux.video_0 ! queue '
        "! h264parse config-interval=-1 ! rtph264pay name=pay0 pt=96 config-interval=-1 )"
    )
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(launch)
    factory.set_shared(False)  # Every client starts at the beginning of the file.

    server = GstRtspServer.RTSPServer()
    server.set_address(args.address)
    server.set_service(str(args.port))
    server.get_mount_points().add_factory(args.path, factory)
    try:
        server.attach(None)
    except GLib.Error as e:  # Only some versions raise; others return 0 (checked below).
        print(f"error: cannot listen on {args.address}:{args.port}: {e}", file=sys.stderr)
        return 1
    port = server.get_bound_port()
    if port <= 0:
        print(f"error: cannot listen on {args.address}:{args.port}", file=sys.stderr)
        return 1

    loop = GLib.MainLoop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, lambda *_: loop.quit() or False)
    print(f"ready {port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
