"""Music on hold, silence and mute through ARI, written against the
unmodified aioari client library.

Usage: ari_moh.py <base url> <user> <password> <app> <step seconds>

The first two channels entering <app> are answered and put in one mixing
bridge; then, one step every <step seconds>, each printing a marker line
once Obelus has answered it:

  BRIDGED              both hear each other
  MUTE_IN              first channel muted "in" (nobody hears it)
  UNMUTED              first channel unmuted
  MOH                  second channel: startMoh (class "default")
  MOH_STOPPED          second channel: stopMoh
  MUTE_OUT             second channel muted "out" (it receives nothing)
  BRIDGE_MOH           second channel unmuted; bridge: startMoh
  BRIDGE_MOH_STOPPED   bridge: stopMoh
  SILENCE              second channel out of the bridge, startSilence
  DONE                 stopSilence

Before that, error answers are checked and printed as `CHECK <what>
<status>`. The callers hang up by themselves.
"""

import asyncio
import sys

import aioari
from aiohttp import web


async def status_of(call):
    """The HTTP status an operation answers (204 when it succeeds)."""
    try:
        await call
        return 204
    except web.HTTPException as e:
        return e.status


async def main(base, user, password, app, step):
    client = await aioari.connect(base, user, password)
    channels = []
    both = asyncio.Event()

    async def on_start(objs, event):
        channel = objs["channel"] if isinstance(objs, dict) else objs
        await channel.answer()
        channels.append(channel)
        if len(channels) == 2:
            both.set()

    async def script():
        await both.wait()
        # 101 first, whichever call entered the application first.
        first, second = sorted(
            channels, key=lambda c: c.json.get("caller", {}).get("number", ""))
        bridge = await client.bridges.create(type="mixing")

        checks = [
            ("startMoh-unknown-channel",
             client.channels.startMoh(channelId="no-such-channel")),
            ("mute-unknown-channel",
             client.channels.mute(channelId="no-such-channel")),
            ("startSilence-unknown-channel",
             client.channels.startSilence(channelId="no-such-channel")),
            ("mute-bad-direction",
             client.channels.mute(channelId=first.id, direction="sideways")),
            ("startMoh-unknown-bridge",
             client.bridges.startMoh(bridgeId="no-such-bridge")),
            ("stopMoh-quiet-bridge",
             client.bridges.stopMoh(bridgeId=bridge.id)),
        ]
        for name, call in checks:
            print(f"CHECK {name} {await status_of(call)}", flush=True)

        await bridge.addChannel(channel=f"{first.id},{second.id}")
        steps = [
            ("BRIDGED", []),
            ("MUTE_IN", [first.mute(direction="in")]),
            ("UNMUTED", [first.unmute(direction="in")]),
            ("MOH", [second.startMoh(mohClass="default")]),
            ("MOH_STOPPED", [second.stopMoh()]),
            ("MUTE_OUT", [second.mute(direction="out")]),
            ("BRIDGE_MOH", [second.unmute(), bridge.startMoh()]),
            ("BRIDGE_MOH_STOPPED", [bridge.stopMoh()]),
            ("SILENCE", [bridge.removeChannel(channel=second.id),
                         second.startSilence()]),
            ("DONE", [second.stopSilence()]),
        ]
        for marker, calls in steps:
            for call in calls:
                await call
            print(marker, flush=True)
            if marker != "DONE":
                await asyncio.sleep(step)

    client.on_channel_event("StasisStart", on_start)
    task = asyncio.ensure_future(script())
    task.add_done_callback(lambda t: t.exception() and print(
        f"FAILED {t.exception()!r}", flush=True))
    print("READY", flush=True)
    await client.run(apps=app)


if __name__ == "__main__":
    base, user, password, app, step = sys.argv[1:6]
    asyncio.run(main(base, user, password, app, float(step)))
