namespace IdOS.Akka.Engine.Faults;

/// <summary>
/// A <see cref="FaultProxy"/> in front of every node of a network and the one table of link rules they share: the
/// network's faults, set by a test or a benchmark while its node processes run.
/// </summary>
public sealed class FaultProxies : IAsyncDisposable
{
    private readonly List<FaultProxy> _proxies;

    /// <param name="publicPorts">The port each node advertises (the proxy listens there).</param>
    /// <param name="backendPorts">The port each node binds.</param>
    /// <param name="processOf">The process id of each node while it runs, null while it does not.</param>
    public FaultProxies(IReadOnlyList<int> publicPorts, IReadOnlyList<int> backendPorts, Func<int, int?> processOf)
    {
        if (!SocketOwners.Supported)
        {
            throw new PlatformNotSupportedException("The fault proxies tell nodes apart through Linux's /proc socket tables, which this system lacks.");
        }

        ArgumentOutOfRangeException.ThrowIfNotEqual(backendPorts.Count, publicPorts.Count);
        Links = new LinkFaults(publicPorts.Count);
        var owners = new SocketOwners(processOf, publicPorts.Count);
        _proxies = [.. publicPorts.Select((port, node) => new FaultProxy(node, port, backendPorts[node], Links, owners))];
    }

    public LinkFaults Links { get; }

    /// <summary>Connections that came from no node (clients, RPC systems), which faults never touch.</summary>
    public int ForeignConnections => _proxies.Sum(p => p.ForeignConnections);

    public async ValueTask DisposeAsync()
    {
        foreach (var proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }
    }
}
