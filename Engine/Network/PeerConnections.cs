using System.Collections.Concurrent;
using Akka.Actor;

namespace IdOS.Akka.Engine.Network;

/// <summary>
/// A system's open connections, by the address each peer listens on, so that a link to a validator that the peer
/// directory finds silent can be closed and dialled afresh. Akka.Remote can leave a link half dead: when a peer
/// restarts at the same address while this system's dial to its old incarnation is still in flight, the endpoint that
/// dialled is replaced, the dial's finished connection reaches no endpoint here, and the restarted peer takes that
/// connection for the one to read from. From then on what this system writes to the peer goes to a connection the peer
/// no longer reads, while Akka's own heartbeats keep both connections up, so nothing in Akka notices. Closing them
/// makes both sides associate again.
/// </summary>
internal sealed class PeerConnections(TransportSecurity security)
{
    private const int MaxOnRecord = 10_000;
    private readonly ConcurrentDictionary<PinGuardHandle, byte> _open = new();

    public void Opened(PinGuardHandle connection)
    {
        if (_open.Count < MaxOnRecord)
        {
            _open.TryAdd(connection, 0);
        }
    }

    public void Closed(PinGuardHandle connection) => _open.TryRemove(connection, out _);

    /// <summary>
    /// Closes every connection to a validator listening at <paramref name="peer"/>'s host and port, whichever side
    /// dialled, that is still up at the transport (a frame, if only Akka's heartbeat, within
    /// <paramref name="receivedWithinMs"/>): that is the half-dead link. A link cut in the network carries nothing and
    /// is left to Akka, which notices that by itself. Connections whose pin is no validator's (an RPC member's) are
    /// never closed this way, so that an address a peer named cannot cost anyone else their link. Returns how many
    /// were closed.
    /// </summary>
    public int CloseWith(Address peer, long receivedWithinMs, string reason)
    {
        if (peer.Host is null || peer.Port is not { } port)
        {
            return 0;
        }

        var closed = 0;
        foreach (var connection in _open.Keys)
        {
            if (connection.Peer is { } linked && linked.Port == port && string.Equals(linked.Host, peer.Host, StringComparison.OrdinalIgnoreCase)
                && security.IsValidatorPin(linked.Pin) && connection.ReceivedWithin(receivedWithinMs))
            {
                connection.Close(reason);
                closed++;
            }
        }

        return closed;
    }
}

/// <summary>The address a connection's peer listens on, as its association handshake gave it, and the pin its TLS handshake proved.</summary>
internal sealed record LinkedPeer(string Host, int Port, TlsPin Pin);
