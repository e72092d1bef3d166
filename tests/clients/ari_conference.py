"""The ARI seed's "single slide conference bridge", written against the
unmodified aioari client library: every channel entering the Stasis app is
answered, hears a beep, and joins one mixing bridge.

Usage: ari_conference.py <base url> <user> <password> <app> <participants>
Prints `BRIDGE <id>` once <participants> channels are in the bridge, then
keeps serving until killed.
"""

import asyncio
import sys

import aioari


async def main(base, user, password, app, expected):
    client = await aioari.connect(base, user, password)
    bridge = await client.bridges.create(type="mixing")
    joined = set()

    async def join(channel):
        await channel.answer()
        playback = await channel.play(media="sound:beep")
        finished = asyncio.Event()
        playback.on_event("PlaybackFinished", lambda *_: finished.set())
        try:
            await asyncio.wait_for(finished.wait(), 5)
        except asyncio.TimeoutError:
            print(f"no PlaybackFinished for {channel.id}", file=sys.stderr)
        await bridge.addChannel(channel=channel.id)
        joined.add(channel.id)
        if len(joined) == expected:
            print(f"BRIDGE {bridge.id}", flush=True)

    async def on_start(objs, event):
        # As in aioari's own examples: the event's objects by field name.
        channel = objs["channel"] if isinstance(objs, dict) else objs
        # aioari handles one event at a time: wait for the playback in a
        # task of its own, or its PlaybackFinished could never arrive.
        asyncio.ensure_future(join(channel))

    client.on_channel_event("StasisStart", on_start)
    print("READY", flush=True)
    await client.run(apps=app)


if __name__ == "__main__":
    base, user, password, app, expected = sys.argv[1:6]
    asyncio.run(main(base, user, password, app, int(expected)))
