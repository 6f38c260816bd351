using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace IdOS.Akka.Engine.Faults;

/// <summary>
/// A TCP proxy in front of one node: the node binds a private port and advertises the proxy's (Akka's
/// `public-port`), so every connection to it, from a peer or a client, passes here. Each connection is attributed to
/// the node that opened it (<see cref="SocketOwners"/>) and its two directions follow the <see cref="LinkFaults"/>
/// rules as they change. An Akka association carries both directions on the connection its initiator opened, so the
/// proxies of the two ends together see every byte between any two nodes.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private const int ChunkBytes = 64 * 1024;

    // Chunks held for a delay: beyond this the reader waits, as a sender does when the network's buffers are full.
    private const int DelayedChunks = 256;

    private readonly int _node;
    private readonly int _backendPort;
    private readonly LinkFaults _faults;
    private readonly SocketOwners _owners;
    private readonly Socket _listener;
    private readonly ConcurrentDictionary<Connection, byte> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private int _foreign;

    /// <param name="node">The node behind this proxy.</param>
    /// <param name="publicPort">The port the node advertises and the proxy listens on.</param>
    /// <param name="backendPort">The port the node binds.</param>
    /// <param name="faults">The rules shared by all the network's proxies.</param>
    /// <param name="owners">Tells which node opened a connection.</param>
    public FaultProxy(int node, int publicPort, int backendPort, LinkFaults faults, SocketOwners owners)
    {
        (_node, _backendPort, _faults, _owners) = (node, backendPort, faults, owners);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, publicPort));
        _listener.Listen(64);
        PublicPort = publicPort;
        _faults.Changed += Enforce;
        _accepting = Task.Run(AcceptLoop);
    }

    public int PublicPort { get; }

    /// <summary>Connections accepted whose opener was not a node (clients, RPC systems): they always pass.</summary>
    public int ForeignConnections => Volatile.Read(ref _foreign);

    public async ValueTask DisposeAsync()
    {
        _faults.Changed -= Enforce;
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var connection in _open.Keys)
        {
            connection.Close(reset: true);
        }

        _stop.Dispose();
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _ = Task.Run(() => Open(client));
        }
    }

    private async Task Open(Socket client)
    {
        var from = -1;
        var peerPort = ((IPEndPoint)client.RemoteEndPoint!).Port;
        // The opener's socket is in the kernel's table as soon as it connected; a few tries cover reading the table
        // while it is being rewritten.
        for (var attempt = 0; attempt < 3 && from < 0; attempt++)
        {
            from = _owners.NodeOf(peerPort, PublicPort);
            if (from < 0)
            {
                await Task.Delay(10);
            }
        }

        if (from < 0)
        {
            Interlocked.Increment(ref _foreign);
        }

        if (_faults.Rule(from, _node).Cut || _faults.Rule(_node, from).Cut)
        {
            Reset(client);
            return;
        }

        var backend = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await backend.ConnectAsync(new IPEndPoint(IPAddress.Loopback, _backendPort), _stop.Token);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The node is down: the opener sees the connection refused, as it would without the proxy.
            backend.Dispose();
            Reset(client);
            return;
        }

        client.NoDelay = true;
        var connection = new Connection(from, _node, client, backend, _faults);
        _open[connection] = 0;
        await connection.Run(_stop.Token);
        _open.TryRemove(connection, out _);
    }

    /// <summary>After a change: cut links lose their connections, and a connection that swallowed bytes is closed once its link passes again, since its stream lost data TCP would have delivered.</summary>
    private void Enforce()
    {
        foreach (var connection in _open.Keys)
        {
            connection.Enforce();
        }
    }

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already closed by the other side.
        }

        socket.Dispose();
    }

    /// <summary>One proxied connection: the opener's socket, the node's, and a pump for each direction.</summary>
    private sealed class Connection(int opener, int acceptor, Socket client, Socket backend, LinkFaults faults)
    {
        private volatile bool _swallowed;
        private int _closing;

        public async Task Run(CancellationToken stop)
        {
            // Closing the sockets ends both pumps: a pending receive or send fails at once.
            await Task.WhenAny(Pump(client, backend, opener, acceptor, stop), Pump(backend, client, acceptor, opener, stop));
            Close(reset: false);
        }

        public void Enforce()
        {
            var up = faults.Rule(opener, acceptor);
            var down = faults.Rule(acceptor, opener);
            if (up.Cut || down.Cut)
            {
                Close(reset: true);
            }
            else if (_swallowed && !up.Swallow && !down.Swallow)
            {
                Close(reset: true);
            }
        }

        public void Close(bool reset)
        {
            if (Interlocked.Exchange(ref _closing, 1) == 1)
            {
                return;
            }

            if (reset)
            {
                Reset(client);
                Reset(backend);
            }
            else
            {
                client.Dispose();
                backend.Dispose();
            }
        }

        /// <summary>Copies one direction; ends when either side closes or the link is cut.</summary>
        private async Task Pump(Socket source, Socket destination, int from, int to, CancellationToken stop)
        {
            var delayed = Channel.CreateBounded<(long DueTicks, byte[] Bytes)>(new BoundedChannelOptions(DelayedChunks) { SingleReader = true, SingleWriter = true });
            var writer = Drain(delayed.Reader, destination, stop);
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    var buffer = new byte[ChunkBytes];
                    var read = await source.ReceiveAsync(buffer, SocketFlags.None, stop);
                    if (read == 0)
                    {
                        break;
                    }

                    var rule = faults.Rule(from, to);
                    if (rule.Cut)
                    {
                        Close(reset: true);
                        break;
                    }

                    if (rule.Swallow)
                    {
                        _swallowed = true;
                        continue;
                    }

                    await delayed.Writer.WriteAsync((DateTime.UtcNow.Ticks + rule.Delay.Ticks, buffer[..read]), stop);
                }
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or ChannelClosedException)
            {
                // The connection ended; the other pump and Run close what is left.
            }

            delayed.Writer.TryComplete();
            await writer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        private static async Task Drain(ChannelReader<(long DueTicks, byte[] Bytes)> chunks, Socket destination, CancellationToken stop)
        {
            await foreach (var (due, bytes) in chunks.ReadAllAsync(stop))
            {
                var wait = due - DateTime.UtcNow.Ticks;
                if (wait > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(wait), stop);
                }

                await destination.SendAsync(bytes, SocketFlags.None, stop);
            }
        }
    }
}
