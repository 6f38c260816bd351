using Akka.Actor;
using IdOS.Akka.Engine.Actors;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Actors;

[Trait("Category", "Unit")]
public sealed class SilentLinksTests
{
    private static readonly Address Peer = new("akka.ssl.tcp", "idos", "127.0.0.1", 4701);
    private static readonly Address Other = new("akka.ssl.tcp", "idos", "127.0.0.1", 4702);

    [Fact]
    public void A_peer_is_due_once_silent_for_the_window_and_again_only_after_the_retry_interval()
    {
        var links = new SilentLinks(15_000);

        Assert.Empty(links.Due([Peer], 1_000));
        Assert.Empty(links.Due([Peer], 15_999));
        Assert.Equal([(Peer, 15_000L)], links.Due([Peer], 16_000));
        Assert.Empty(links.Due([Peer], 16_000 + SilentLinks.RetryMs - 1));
        Assert.Equal([(Peer, 15_000L + SilentLinks.RetryMs)], links.Due([Peer], 16_000 + SilentLinks.RetryMs));
    }

    [Fact]
    public void Hearing_from_a_peer_restarts_its_window_and_forgetting_it_starts_it_anew()
    {
        var links = new SilentLinks(15_000);
        Assert.Empty(links.Due([Peer, Other], 0));

        links.Heard(Peer, 10_000);
        Assert.Equal([(Other, 15_000L)], links.Due([Peer, Other], 15_000));
        Assert.Equal([(Peer, 15_000L)], links.Due([Peer, Other], 25_000));

        links.Forget(Other);
        Assert.Empty(links.Due([Other], 100_000));
        Assert.Equal([(Other, 15_000L)], links.Due([Other], 115_000));
    }
}
