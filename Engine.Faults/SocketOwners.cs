using System.Globalization;

namespace IdOS.Akka.Engine.Faults;

/// <summary>
/// Which node process opened a loopback connection, read from Linux's /proc: the proxy sees only the peer's ephemeral
/// port, the kernel's socket table maps that port to a socket inode, and the process holding a descriptor for that
/// inode is the node. Nodes authenticate each other inside TLS, so nothing in the bytes could say who connected, and
/// one loopback address serves them all.
/// </summary>
public sealed class SocketOwners(Func<int, int?> processOf, int nodes)
{
    private static readonly string[] SocketTables = ["/proc/net/tcp", "/proc/net/tcp6"];

    /// <summary>Whether this system can answer at all: a proxy that cannot tell its peers apart must not pretend to partition them.</summary>
    public static bool Supported => OperatingSystem.IsLinux() && File.Exists(SocketTables[0]);

    /// <summary>
    /// The node whose process holds the socket connected from <paramref name="peerPort"/> to <paramref name="proxyPort"/>,
    /// or -1 for any other process (a test's client, an RPC system) or a socket already gone.
    /// </summary>
    public int NodeOf(int peerPort, int proxyPort)
    {
        if (Inode(peerPort, proxyPort) is not { } inode)
        {
            return -1;
        }

        var target = $"socket:[{inode}]";
        for (var node = 0; node < nodes; node++)
        {
            if (processOf(node) is { } pid && Holds(pid, target))
            {
                return node;
            }
        }

        return -1;
    }

    private static bool Holds(int pid, string target)
    {
        try
        {
            return Directory.EnumerateFiles($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/fd")
                .Any(fd => string.Equals(new FileInfo(fd).LinkTarget, target, StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process exited, or a descriptor closed between listing and reading.
            return false;
        }
    }

    /// <summary>The inode of the socket whose local port is <paramref name="localPort"/> and remote port <paramref name="remotePort"/>.</summary>
    private static string? Inode(int localPort, int remotePort)
    {
        foreach (var table in SocketTables.Where(File.Exists))
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && PortOf(fields[1]) == localPort && PortOf(fields[2]) == remotePort && fields[9] != "0")
                {
                    return fields[9];
                }
            }
        }

        return null;
    }

    private static int PortOf(string address)
    {
        var colon = address.LastIndexOf(':');
        return colon >= 0 && int.TryParse(address.AsSpan(colon + 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var port) ? port : -1;
    }
}
