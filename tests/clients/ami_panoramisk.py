"""Drives Obelus's AMI with panoramisk, an unmodified third-party AMI client.

Usage: python3 ami_panoramisk.py PORT USERNAME SECRET
Exits 0 when every step behaved as an Asterisk client expects; prints why otherwise.
"""
import asyncio
import sys

from panoramisk import Manager


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

    manager.close()
    print("panoramisk: all steps passed")


if __name__ == "__main__":
    try:
        asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
    except Exception as exc:  # report every failure as a message, not a traceback only
        print(f"panoramisk client failed: {exc!r}")
        raise
