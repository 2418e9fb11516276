"""The lab network's rules (scenarios §1.1), in the spirit of labrpc's own tests."""

from __future__ import annotations

from impl.sim import EventLoop, LabNetwork, wire_size
from tests.sim.helpers import Echo, Ping


def pair(seed: int = 1) -> tuple[LabNetwork, Echo, Echo]:
    net = LabNetwork(EventLoop(seed))
    client, server = Echo(net, "client"), Echo(net, "server")
    net.attach("client", client)
    net.attach("server", server)
    return net, client, server


def test_counts_requests_dispatched_at_the_server() -> None:
    net, client, _ = pair()
    for i in range(17):
        net.send("client", "server", Ping(i))
    net.loop.run_for(10)
    assert net.rpc_count["server"] == 17  # labrpc TestCounts
    assert net.rpc_count["client"] == 0  # replies are not RPCs
    assert net.stats.total_rpcs == 17
    assert client.pongs() == list(range(17))


def test_bytes_count_requests_when_sent_and_replies_when_delivered() -> None:
    net, _, server = pair()
    server.reply_payload = "y" * 107
    request = Ping(0, "x" * 292)
    net.send("client", "server", request)
    net.loop.run_for(1)
    from tests.sim.helpers import Pong

    assert net.stats.total_bytes == wire_size(request) + wire_size(Pong(0, "y" * 107))
    assert 292 < wire_size(request) < 292 + 20  # msgpack overhead is small


def test_disabled_end_never_runs_the_handler_and_the_call_fails_after_a_delay() -> None:
    net, client, server = pair()
    net.set_long_delays(True)
    net.enable("client", "server", False)
    for i in range(20):
        net.send("client", "server", Ping(i))
    net.loop.run_for(10_000)
    assert server.got == []
    assert len(client.failed) == 20
    assert all(0 <= t <= 6999 for t, _ in client.failed)
    assert max(t for t, _ in client.failed) > 99  # long delays: up to 7 s
    # labrpc TestRegression1: re-enabling delivers the next call at once.
    net.enable("client", "server", True)
    start = net.loop.now
    net.send("client", "server", Ping(99))
    net.loop.run_for(0)
    assert client.pongs() == [99] and net.loop.now == start


def test_short_failure_delay_without_long_delays() -> None:
    net, client, _ = pair()
    net.enable("client", "server", False)
    for i in range(20):
        net.send("client", "server", Ping(i))
    net.loop.run_for(1000)
    assert len(client.failed) == 20 and all(t <= 99 for t, _ in client.failed)


def test_a_reply_over_an_end_disabled_while_handling_is_discarded() -> None:
    net, client, _server = pair()

    class Slow(Echo):
        def deliver(self, src: object, message: object, msg_id: int) -> None:
            net.enable("client", "server", False)  # the end goes down before the reply
            super().deliver(src, message, msg_id)

    slow = Slow(net, "server")
    net.attach("server", slow)
    net.send("client", "server", Ping(1))
    net.loop.run_for(100)
    assert len(slow.got) == 1  # the handler ran
    assert client.pongs() == []  # but its reply never arrived


def test_unreliable_calls_succeed_about_81_percent_with_short_delays() -> None:
    net, client, server = pair(seed=7)
    net.set_reliable(False)
    for i in range(1000):
        net.send("client", "server", Ping(i))
    net.loop.run_for(100)
    assert 0.85 < len(server.got) / 1000 < 0.95  # requests: 10 % lost
    assert 0.76 < len(client.pongs()) / 1000 < 0.86  # whole calls: ~0.9 × 0.9
    assert max(t for t, _ in server.got) <= 26
    assert len({t for t, _ in server.got}) > 20  # delays really vary over 0-26 ms


def test_long_reordering_delays_about_two_thirds_of_replies_200_to_2200_ms() -> None:
    net, client, _ = pair(seed=3)
    net.set_long_reordering(True)
    for i in range(600):
        net.send("client", "server", Ping(i))
    net.loop.run_for(3000)
    times = [t for t, _ in client.got]
    late = [t for t in times if t >= 200]
    assert len(times) == 600
    assert all(t == 0 or 200 <= t <= 2199 for t in times)
    assert 0.6 < len(late) / 600 < 0.73
    assert client.pongs() != sorted(client.pongs())  # replies really are reordered


def test_messages_to_or_from_a_dead_incarnation_are_dropped() -> None:
    net, _client, server = pair()
    net.set_long_reordering(True)
    for i in range(30):
        net.send("client", "server", Ping(i))
    net.loop.run_for(0)  # handlers ran; most replies are delayed
    net.detach("client")  # the caller crashes...
    fresh = Echo(net, "client")
    net.attach("client", fresh)  # ...and restarts
    net.loop.run_for(3000)
    assert fresh.got == []  # the dead instance's replies never reach the new one
    net.detach("server")
    net.send("client", "server", Ping(100))
    net.loop.run_for(10_000)
    assert len(server.got) == 30  # a dead server's handler never runs
    assert len(fresh.failed) == 1


def test_partition_lets_only_same_group_talk() -> None:
    net = LabNetwork(EventLoop(1))
    nodes = {i: Echo(net, i) for i in range(5)}
    for i, endpoint in nodes.items():
        net.attach(i, endpoint)
    net.partition([[0, 1], [2, 3, 4]])
    for a in range(5):
        for b in range(5):
            if a != b:
                net.send(a, b, Ping(10 * a + b))
    net.loop.run_for(10_000)
    heard = {i: sorted(m.n for _, m in e.got if m.rpc == "request") for i, e in nodes.items()}
    assert heard[0] == [10] and heard[1] == [1]
    assert heard[2] == [32, 42] and heard[4] == [24, 34]
