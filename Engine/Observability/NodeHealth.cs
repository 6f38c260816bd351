using System.Text.Json.Nodes;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Rpc.Http;

namespace IdOS.Akka.Engine.Observability;

/// <summary>
/// Whether a node is fit to serve: connected to a quorum of its epoch's set (itself counted when it votes), and
/// within <see cref="MaxBlocksBehind"/> committed blocks of the network's head (<see cref="NetworkHead"/>). A load
/// balancer takes the node out of rotation otherwise, and `user.health` says the same.
/// </summary>
public sealed record NodeHealth(int MaxBlocksBehind)
{
    public const int DefaultMaxBlocksBehind = 10;

    /// <summary>Why the node is not healthy; null when it is.</summary>
    public string? Problem(int peersConnected, int setSize, bool voting, long height, long networkHeight)
    {
        var quorum = setSize - ((setSize - 1) / 3);
        var needed = quorum - (voting ? 1 : 0);
        if (peersConnected < needed)
        {
            return $"connected to {peersConnected} validator(s); a quorum of the {setSize} needs {needed}{(voting ? " besides this one" : "")}";
        }

        return networkHeight - height > MaxBlocksBehind
            ? $"at height {height}, {networkHeight - height} blocks behind the network's head {networkHeight} (more than {MaxBlocksBehind})"
            : null;
    }

    /// <summary>The node is catching up: behind the head by more than the allowed distance.</summary>
    public bool IsSyncing(long height, long networkHeight) => networkHeight - height > MaxBlocksBehind;

    /// <summary>What `GET /health` answers for a status (whose <see cref="NodeStatus.Unhealthy"/> the node judged).</summary>
    public static HealthReport Report(NodeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        return new HealthReport(status.Unhealthy.Length == 0, status.Unhealthy, new JsonObject
        {
            ["height"] = status.Height,
            ["network_height"] = status.NetworkHeight,
            ["executed_height"] = status.ExecutedHeight,
            ["peers"] = status.PeersConnected,
            ["epoch"] = status.Epoch,
            ["validators"] = status.SetSize,
            ["voting"] = status.Voting,
        });
    }
}
