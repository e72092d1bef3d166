"""Drives Obelus's AMI with panoramisk, an unmodified third-party AMI client.

Usage: python3 ami_panoramisk.py PORT USERNAME SECRET
Exits 0 when every step behaved as an Asterisk client expects; prints why otherwise.

Besides the basics (login, Ping, Command, UserEvent, errors) it runs a call:
Originate (Async) to Local/100@somecontext, whose dialplan answers and waits;
the channel events arrive through panoramisk's event callbacks and the
OriginateResponse as the action's last message (it carries the ActionID);
the channel is found with CoreShowChannels, hung up with Hangup, and its
Hangup event is seen.
"""
import asyncio
import sys

from panoramisk import Manager


async def wait_until(condition, what, seconds=10):
    """Waits (bounded) until condition() holds; fails naming what was awaited."""
    for _ in range(seconds * 20):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def call(manager):
    """Originate to a Local channel, watch its events, hang it up."""
    channel_events = []

    @manager.register_event("Newchannel")
    @manager.register_event("Newstate")
    @manager.register_event("Hangup")
    def on_channel_event(_manager, message):
        channel_events.append(message)

    replies = await asyncio.wait_for(manager.send_action({
        "Action": "Originate",
        "Channel": "Local/100@somecontext",
        "Application": "Wait",
        "Data": "30",
        "CallerID": "\"Panoramisk\" <555>",
        "Async": "true",
    }), 15)
    # Async: the queued response, then OriginateResponse with our ActionID.
    assert isinstance(replies, list) and len(replies) == 2, f"Originate: {replies}"
    queued, outcome = replies
    assert queued.Response == "Success" and "successfully queued" in queued.Message, f"{queued}"
    assert outcome.Event == "OriginateResponse", f"{outcome}"
    assert outcome.Response == "Success" and outcome.Reason == "4", f"{outcome}"
    assert outcome.CallerIDNum == "555", f"{outcome}"
    name = outcome.Channel
    assert name.startswith("Local/100@somecontext-") and name.endswith(";1"), f"{outcome}"
    uniqueid = outcome.Uniqueid

    def events_of(kind, unique):
        return [e for e in channel_events if e.Event == kind and e.Uniqueid == unique]

    await wait_until(lambda: events_of("Newchannel", uniqueid), "Newchannel of " + name)
    created = events_of("Newchannel", uniqueid)[0]
    assert created.Channel == name, f"Newchannel: {created}"
    await wait_until(lambda: any(e.ChannelStateDesc == "Up" for e in events_of("Newstate", uniqueid)),
                     "Newstate Up of " + name)
    other_half = name[:-1] + "2"
    assert any(e.Channel == other_half for e in channel_events if e.Event == "Newchannel"), \
        f"no Newchannel for {other_half}: {channel_events}"

    listing = await asyncio.wait_for(manager.send_action({"Action": "CoreShowChannels"}), 10)
    found = [m for m in listing if m.Event == "CoreShowChannel" and m.Channel == name]
    assert found, f"CoreShowChannels lists {name}: {listing}"
    assert found[0].Application == "Wait", f"{found[0]}"

    hungup = await asyncio.wait_for(manager.send_action(
        {"Action": "Hangup", "Channel": name, "Cause": "16"}), 10)
    assert hungup.Response == "Success" and hungup.Message == "Channel Hungup", f"Hangup: {hungup}"
    await wait_until(lambda: events_of("Hangup", uniqueid), "Hangup of " + name)
    gone = events_of("Hangup", uniqueid)[0]
    assert gone.Cause == "16" and gone.get("Cause-txt") == "Normal Clearing", f"{gone}"
    print(f"panoramisk: originated, saw {len(channel_events)} channel events, hung up {name}")


async def main(port, username, secret):
    events = []
    got_user_event = asyncio.Event()
    manager = Manager(host="127.0.0.1", port=port, username=username, secret=secret,
                      ping_delay=0, reconnect_timeout=0.5)

    @manager.register_event("UserEvent")
    def on_user_event(_manager, message):
        events.append(message)
        got_user_event.set()

    # panoramisk waits for FullyBooted after login before connect() returns.
    await asyncio.wait_for(manager.connect(), 10)

    pong = await asyncio.wait_for(manager.send_action({"Action": "Ping"}), 10)
    assert pong.Response == "Success" and pong.Ping == "Pong", f"Ping: {pong}"

    out = await asyncio.wait_for(manager.send_action({"Action": "Command", "Command": "core show version"}), 10)
    output = out.get("Output")
    lines = output if isinstance(output, list) else [output]
    assert out.Response == "Success", f"Command: {out}"
    assert any(line.startswith("Obelus ") for line in lines), f"Command output: {lines}"

    sent = await asyncio.wait_for(
        manager.send_action({"Action": "UserEvent", "UserEvent": "Hello", "Foo": "bar"}), 10)
    assert sent.Response == "Success", f"UserEvent: {sent}"
    await asyncio.wait_for(got_user_event.wait(), 10)
    assert events[0].UserEvent == "Hello" and events[0].Foo == "bar", f"event: {events[0]}"

    bad = await asyncio.wait_for(manager.send_action({"Action": "NoSuchThing"}), 10)
    assert bad.Response == "Error" and "Invalid/unknown command" in bad.Message, f"unknown: {bad}"

    status = await asyncio.wait_for(manager.send_action({"Action": "CoreStatus"}), 10)
    assert status.Response == "Success" and status.CoreStartupDate, f"CoreStatus: {status}"

    await call(manager)

    manager.close()
    print("panoramisk: all steps passed")


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
    except Exception as exc:  # report every failure as a message, not a traceback only
        print(f"panoramisk client failed: {exc!r}")
        raise
