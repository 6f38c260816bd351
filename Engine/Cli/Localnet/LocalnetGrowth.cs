using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>
/// `localnet --grow-to N`: the nodes after the genesis validators join one at a time while the load runs, as an
/// operator's would: each starts with an empty data folder (it syncs its state from its peers), asks with
/// `validator join`, the current members approve until more than 2/3 of the set have, and the next waits until the
/// last one votes, since governance refuses a change the live validators could not carry.
/// </summary>
internal sealed class LocalnetGrowth(IReadOnlyList<Config> configs, IReadOnlyList<string> configPaths, int genesisValidators, string application,
    IReadOnlyList<Address> addresses, TransportSecurity transport, TextWriter output)
{
    private static readonly TimeSpan JoinDeadline = TimeSpan.FromMinutes(5);
    private readonly List<NodeProcess> _started = [];
    private readonly Lock _lock = new();

    /// <summary>The joining nodes started so far, and how many of them are still running.</summary>
    public (int Running, int Started) Processes
    {
        get
        {
            lock (_lock)
            {
                return (_started.Count(p => !p.HasExited), _started.Count);
            }
        }
    }

    public List<NodeProcess> Started
    {
        get
        {
            lock (_lock)
            {
                return [.. _started];
            }
        }
    }

    /// <summary>Grows the set through the RPC system at <paramref name="rpcUrl"/>; false (said why) if a step failed.</summary>
    public async Task<bool> Run(string rpcUrl, NodeClient client, CancellationToken stop)
    {
        var pins = new List<TlsPin>();
        for (var node = genesisValidators; node < configs.Count && !stop.IsCancellationRequested; node++)
        {
            var keyFile = configs[node].GetString("idos.node.key-file");
            pins.Add(TlsFiles.PinOf(KeyFiles.TlsCertificateBeside(keyFile)));
            transport.AdmitJoinedValidators(pins);
            var process = LocalnetCommand.StartNode(configPaths[node], configs[node].GetString("idos.node.data-directory"), application, joining: true);
            lock (_lock)
            {
                _started.Add(process);
            }

            await output.WriteLineAsync($"node {node} started (pid {process.Id}) at {addresses[node]} to join the validator set");
            string candidate;
            using (var key = KeyFiles.ReadPrivate(keyFile))
            {
                candidate = key.PublicKey.ToString();
            }

            var address = $"{configs[node].GetString("akka.remote.dot-netty.tcp.hostname")}:{configs[node].GetInt("akka.remote.dot-netty.tcp.port")}";
            if (await ValidatorCommand.Run(["join", "--key", keyFile, "--rpc", rpcUrl, "--address", address], output) != 0)
            {
                return false;
            }

            // The members so far are the nodes before this one; the join passes with more than 2/3 of them.
            for (var member = 0; member < (2 * node / 3) + 1; member++)
            {
                if (await ValidatorCommand.Run(["approve", "--key", configs[member].GetString("idos.node.key-file"), "--rpc", rpcUrl, "--candidate", candidate],
                    output) != 0)
                {
                    return false;
                }
            }

            if (!await Voting(client, node, stop))
            {
                await output.WriteLineAsync($"error: node {node} does not vote {JoinDeadline.TotalMinutes:0} minutes after its join passed; see its node.log");
                return false;
            }

            await output.WriteLineAsync($"node {node} votes: the set has {node + 1} validators");
        }

        return true;
    }

    private async Task<bool> Voting(NodeClient client, int node, CancellationToken stop)
    {
        var deadline = DateTime.UtcNow + JoinDeadline;
        while (DateTime.UtcNow < deadline && !stop.IsCancellationRequested)
        {
            try
            {
                if (await client.Status(addresses[node], TimeSpan.FromSeconds(1)) is { Voting: true, SetSize: var size } && size == node + 1)
                {
                    return true;
                }
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
            }

            await Task.Delay(TimeSpan.FromSeconds(1), stop).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        return false;
    }
}
