using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Configuration;
using IdOS.Akka.Engine.Application;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;

namespace IdOS.Akka.Engine.Cli.Localnet;

/// <summary>
/// `localnet`: the validators of hocon/localnet as separate processes of this executable on 127.0.0.1, keys and
/// genesis created on first use, and one status line a second. With the idOS application (the default) it first runs
/// the scripted idOS flow, then a steady load of signed `add_user_as_inserter` transactions from inserter delegates,
/// and at the end compares the validators' app hashes; with the opaque application the load is signed counters.
/// Each node's output goes to `node.log` in its data folder.
/// </summary>
public static class LocalnetCommand
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromMilliseconds(900);

    public static Command Definition()
    {
        var validators = CommandLineApp.Count("--validators", "genesis validators: CONFIGS/node1.conf ... nodeN.conf", 4, 1, 64);
        var growTo = CommandLineApp.OptionalNumber("--grow-to", "(idOS only) start the nodes of node5.conf ... nodeN.conf one at a time while the load " +
            "runs, each joining the set through governance from an empty data folder", 1, 64);
        var application = CommandLineApp.Choice("--app", "the application the validators run", "idos", "idos", "opaque");
        var rate = CommandLineApp.OptionalNumber("--rate", "transactions a second spread over the validators (default 400 for idos, 2000 for opaque)", 0, 1_000_000);
        var transactionBytes = CommandLineApp.Count("--tx-bytes", "size of each opaque transaction", 100, OpaqueTransaction.HeaderSize + 4, 1 << 20);
        var seconds = CommandLineApp.Number("--seconds", "stop after this long (0: at Ctrl-C)", 0, 0, 86_400);
        var configs = CommandLineApp.Text("--configs", "the folder of the node files", Path.Combine("hocon", "localnet"), "DIR");
        var fresh = CommandLineApp.Flag("--fresh", "delete the nodes' data folders and the genesis file first");
        var command = new Command("localnet", "Starts the validators as processes on 127.0.0.1 (keys, genesis and the idOS owner key are created on " +
            "first use) with an RPC system and its explorer; runs the scripted idOS flow, then a steady load, prints a status line every second until " +
            "Ctrl-C, and checks at the end that every validator holds the same app hash.")
        {
            validators, growTo, application, rate, transactionBytes, seconds, configs, fresh,
        };
        command.SetAction(parse =>
        {
            var app = parse.GetValue(application)!;
            var genesis = parse.GetValue(validators);
            var nodes = (int)(parse.GetValue(growTo) ?? genesis);
            if (nodes < genesis)
            {
                throw new UsageException($"--grow-to {nodes} is below --validators {genesis}");
            }

            if (nodes > genesis && app != "idos")
            {
                throw new UsageException("--grow-to needs the idOS application: governance transactions are idOS's");
            }

            var perSecond = parse.GetValue(rate) ?? (app == "idos" ? 400 : 2_000);
            return Run(new LocalnetOptions(genesis, nodes, app, perSecond, parse.GetValue(transactionBytes), parse.GetValue(seconds), parse.GetValue(configs)!,
                parse.GetValue(fresh)), parse.Output());
        });
        return command;
    }

    public static Task<int> Run(IReadOnlyList<string> args, TextWriter output) => CommandLineApp.Run(Definition(), args, output);

    private static async Task<int> Run(LocalnetOptions options, TextWriter output)
    {
        var (validators, nodeCount, application, rate, transactionBytes, seconds, configDirectory, fresh) = options;
        var configPaths = Enumerable.Range(1, nodeCount).Select(i => Path.Combine(configDirectory, $"node{i}.conf")).ToList();
        if (configPaths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
        {
            await Console.Error.WriteLineAsync($"error: {missing} does not exist; run from the repository root, or add node files for {nodeCount} nodes to {configDirectory}.");
            return 1;
        }

        // The nodes past the genesis validators join by governance: genesis leaves their keys out.
        var configs = configPaths.Select((path, i) => i < validators ? NodeConfig.Load(path) : JoiningNode(NodeConfig.Load(path))).ToList();
        if (fresh)
        {
            foreach (var config in configs)
            {
                DeleteIfPresent(config.GetString("idos.node.data-directory", ""));
                var genesis = config.GetString("idos.node.genesis-file", "");
                if (File.Exists(genesis))
                {
                    File.Delete(genesis);
                }
            }
        }

        var chain = LocalNetwork.Prepare(configs, "idos-akka-localnet", OwnerKeyFile(configs[0]));
        var transport = LocalNetwork.MemberTransport(configs[0]);
        var addresses = configs.Select(c => NodeClient.NodeAddress(c.GetString("akka.remote.dot-netty.tcp.hostname"), c.GetInt("akka.remote.dot-netty.tcp.port"), transport)).ToList();
        var genesisAddresses = addresses.Take(validators).ToList();
        var loadKind = application == "idos" ? "idOS add_user_as_inserter transactions" : $"opaque transactions of {transactionBytes} bytes";
        await output.WriteLineAsync($"chain {chain.ChainId}: {validators} validators running {application}, genesis block {chain.GenesisBlock.Id.ToShortString()}; load {rate} tx/s of {loadKind}; " +
            (transport.IsTls ? $"Akka.Remote over mutual TLS, {transport.Accepted.Count} pinned certificates" : "Akka.Remote WITHOUT TLS (insecure = on)"));

        var processes = new List<NodeProcess>();
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => { context.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => { context.Cancel = true; stop.Cancel(); });
        var growth = new LocalnetGrowth(configs, configPaths, validators, application, addresses, transport, output);
        try
        {
            for (var i = 0; i < validators; i++)
            {
                processes.Add(StartNode(configPaths[i], configs[i].GetString("idos.node.data-directory"), application));
                await output.WriteLineAsync($"validator {i} started (pid {processes[i].Id}) at {addresses[i]}, log in {Path.Combine(configs[i].GetString("idos.node.data-directory"), "node.log")}" +
                    (configs[i].GetBoolean("idos.node.metrics.enabled", true)
                        ? $", metrics at http://127.0.0.1:{configs[i].GetInt("idos.node.metrics.port", 26660)}/metrics and /health" : "") +
                    (configs[i].GetString("idos.node.admin.listen", "") is { Length: > 0 } admin ? $", status: idos-engine status --node {admin}" : ""));
            }

            await using var rpc = await StartRpc(genesisAddresses, transport, application, output);
            await using var client = NodeClient.Create(transport);
            var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var loading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var flowFailed = false;
            var growFailed = false;
            async Task GrowSet() => growFailed = !await growth.Run(rpc!.Endpoint.GetLeftPart(UriPartial.Authority), client, stop.Token);
            var load = Task.Run(async () =>
            {
                await ready.Task.WaitAsync(stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                if (stop.IsCancellationRequested)
                {
                    return (0L, 0L);
                }

                if (application == "opaque")
                {
                    using var key = Ed25519PrivateKey.GenerateExportable();
                    long counter = 0;
                    loading.TrySetResult();
                    return await DriveLoad(client, genesisAddresses, rate, processes,
                        (_, count) => [.. Enumerable.Range(0, count).Select(_ => OpaqueTransaction.CreateNumbered(key, ++counter, transactionBytes))], stop.Token);
                }

                using var owner = KeyFiles.ReadPrivate(OwnerKeyFile(configs[0]));
                var driver = new TransactionDriver(client, genesisAddresses, chain.ChainId);
                var ownerSigner = KwilSigner.ForEd25519(owner.PublicKey.Bytes, message => owner.Sign(message));
                try
                {
                    await output.WriteLineAsync("idOS flow:");
                    var flow = await new IdosFlow(driver, ownerSigner, output).Run();
                    await output.WriteLineAsync($"idOS flow: {flow.Transactions} transactions executed with the expected results");
                    using var writers = await IdosLoad.Prepare(driver, ownerSigner, genesisAddresses.Count * 4, genesisAddresses.Count);
                    loading.TrySetResult();
                    var growing = nodeCount > validators ? GrowSet() : Task.CompletedTask;
                    var driven = await DriveLoad(client, genesisAddresses, rate, processes, writers.Next, stop.Token);
                    await growing;
                    return driven;
                }
                catch (Exception e) when (e is ScenarioFailedException or TimeoutException or AskTimeoutException)
                {
                    flowFailed = true;
                    await output.WriteLineAsync($"error: the idOS flow failed: {e.Message}");
                    await stop.CancelAsync();
                    return (0L, 0L);
                }
            });
            var report = await ReportStatus(client, addresses, validators, () => (processes.Count(p => !p.HasExited) + growth.Processes.Running, processes.Count + growth.Processes.Started),
                output, seconds, ready, loading.Task, stop);
            await stop.CancelAsync();
            var (submitted, rejected) = await load;
            await output.WriteLineAsync($"load: {submitted} transactions accepted, {rejected} refused");
            await output.WriteLineAsync(report);
            var running = Enumerable.Range(0, addresses.Count).Where(i => i < validators || i - validators < growth.Processes.Started).Select(i => addresses[i]).ToList();
            if (application == "idos" && !await SameAppHash(client, running, output) | flowFailed | growFailed)
            {
                return 1;
            }
        }
        finally
        {
            foreach (var killed in await NodeProcess.StopAll([.. processes, .. growth.Started], TimeSpan.FromSeconds(15)))
            {
                await output.WriteLineAsync($"validator process {killed} did not stop within 15 s and was killed");
            }

            await output.WriteLineAsync("localnet stopped");
        }

        return 0;
    }

    /// <summary>
    /// The RPC system in this process, with hocon/rpc.conf's settings and this network's validators, so that an idOS
    /// client can talk to the localnet; null for the opaque application, which no client speaks.
    /// </summary>
    private static async Task<RpcHost?> StartRpc(List<Address> validators, TransportSecurity transport, string application, TextWriter output)
    {
        if (application != "idos")
        {
            return null;
        }

        var path = Path.Combine("hocon", "rpc.conf");
        var config = File.Exists(path) ? NodeConfig.Load(path) : NodeConfig.Defaults;
        // Started with the validators, it associates with them before they listen; those warnings would bury the status lines.
        var host = await RpcHost.Start(RpcSettings.FromConfig(config, validators, transport) with { LogLevel = "ERROR" });
        await output.WriteLineAsync($"Kwil JSON-RPC for idOS clients at {host.Endpoint}, health at {new Uri(host.Endpoint, "/health")}" +
            (host.MetricsAddress is { } metrics ? $", metrics at {metrics}metrics" : ""));
        if (host.Explorer)
        {
            await output.WriteLineAsync($"explorer at {new Uri(host.Endpoint, "/")}");
        }

        return host;
    }

    /// <summary>The idOS database owner's key, beside the network's genesis file.</summary>
    public static string OwnerKeyFile(Config node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return Path.Combine(Path.GetDirectoryName(Path.GetFullPath(node.GetString("idos.node.genesis-file", "genesis.json"))) ?? ".", "owner.key");
    }

    /// <summary>
    /// Compares the app hash after the highest height every answering validator has executed, and names those that do
    /// not answer (a dead validator must not hold the comparison, nor the stop, for long). Validators still working off
    /// a backlog may not have that height at once, so it asks again for up to 15 s; one that never answers its status
    /// is left out of the comparison and reported.
    /// </summary>
    private static async Task<bool> SameAppHash(NodeClient client, List<Address> nodes, TextWriter output)
    {
        var ask = TimeSpan.FromSeconds(2);
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            var statuses = await Task.WhenAll(nodes.Select(node => Answer(client.Status(node, ask))));
            // A node without a vote (its join not passed yet) may hold no state; the comparison is the validators'.
            var answering = Enumerable.Range(0, nodes.Count).Where(i => statuses[i] is { Voting: true }).ToList();
            var silent = Enumerable.Range(0, nodes.Count).Where(i => statuses[i] is null).Select(i => $"validator {i + 1}").ToList();
            if (answering.Count == 0)
            {
                await output.WriteLineAsync("error: no validator answered for the app hash comparison");
                return false;
            }

            var height = answering.Min(i => statuses[i]!.ExecutedHeight);
            var hashes = await Task.WhenAll(answering.Select(i => Answer(client.AppHash(nodes[i], height, ask))));
            if (hashes.Any(h => h is null) && DateTime.UtcNow < deadline)
            {
                continue;
            }

            var answered = answering.Select((node, k) => (First: node, Second: hashes[k])).ToList();
            var compared = answered.Where(pair => pair.Second is not null).ToList();
            silent.AddRange(answered.Where(pair => pair.Second is null).Select(pair => $"validator {pair.First + 1}"));
            var distinct = compared.Select(pair => pair.Second!.AppHash?.ToString() ?? "none").Distinct(StringComparer.Ordinal).ToList();
            var who = compared.Count == nodes.Count ? $"all {nodes.Count} validators" : $"nodes {string.Join(", ", compared.Select(pair => pair.First + 1))}";
            await output.WriteLineAsync(distinct.Count == 1
                ? $"app hash after height {height}: {distinct[0]} on {who}"
                : $"error: the validators disagree on the app hash after height {height}: "
                    + string.Join(", ", compared.Select(pair => $"validator {pair.First + 1} {pair.Second!.AppHash?.ToString() ?? "none"}")));
            if (silent.Count > 0)
            {
                await output.WriteLineAsync($"warning: {string.Join(", ", silent)} did not answer, so the comparison leaves {(silent.Count == 1 ? "it" : "them")} out");
            }

            return distinct.Count == 1 && compared[0].Second!.AppHash is not null;
        }
    }

    /// <summary>The answer, or null when the node did not answer in time.</summary>
    private static async Task<T?> Answer<T>(Task<T> ask)
        where T : class
    {
        try
        {
            return await ask;
        }
        catch (Exception e) when (e is TimeoutException or AskTimeoutException)
        {
            return null;
        }
    }

    internal static NodeProcess StartNode(string configPath, string dataDirectory, string application, bool joining = false)
    {
        Directory.CreateDirectory(dataDirectory);
        var log = new StreamWriter(Path.Combine(dataDirectory, "node.log"), append: true) { AutoFlush = true };
        return NodeProcess.Start(["run", "--config", configPath, "--application", application, .. joining ? ["--joined-by-governance"] : Array.Empty<string>()], log);
    }

    private static Config JoiningNode(Config node) => ConfigurationFactory.ParseString("idos.node.joined-by-governance = on").WithFallback(node);

    /// <summary>
    /// Every 100 ms a tenth of a second's transactions, round-robin over the validators that are running;
    /// <paramref name="create"/> makes the transactions for a node (idOS writers keep each signer on one node, so that
    /// its nonces arrive in order).
    /// </summary>
    private static async Task<(long Accepted, long Refused)> DriveLoad(NodeClient client, List<Address> nodes,
        long rate, List<NodeProcess> processes, Func<int, int, List<byte[]>> create, CancellationToken stop)
    {
        long accepted = 0, refused = 0;
        var next = 0;
        var pending = new List<Task<SubmitResults>>();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var carry = 0.0;
        try
        {
            while (await tick.WaitForNextTickAsync(stop))
            {
                carry += rate / 10.0;
                var count = (int)carry;
                carry -= count;
                if (count == 0)
                {
                    continue;
                }

                var node = next++ % nodes.Count;
                if (!processes[node].HasExited)
                {
                    pending.Add(client.Submit(nodes[node], create(node, count), TimeSpan.FromSeconds(5)));
                }

                (accepted, refused) = Tally(pending, accepted, refused);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(pending.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        return Tally(pending, accepted, refused);
    }

    private static (long Accepted, long Refused) Tally(List<Task<SubmitResults>> pending, long accepted, long refused)
    {
        foreach (var done in pending.Where(t => t.IsCompleted).ToList())
        {
            pending.Remove(done);
            if (done.IsCompletedSuccessfully)
            {
                accepted += done.Result.Results.Count(r => r.Status == Consensus.MempoolAddStatus.Added);
                refused += done.Result.Results.Count(r => r.Status != Consensus.MempoolAddStatus.Added);
            }
        }

        return (accepted, refused);
    }

    /// <summary>
    /// Prints a line a second; opens <paramref name="ready"/> (the flow and the load) once every node has a hello
    /// from all the others. Returns the summary from when <paramref name="loading"/> completed, so the figure
    /// measures the load and not the network's start or the flow's waits.
    /// </summary>
    private static async Task<string> ReportStatus(NodeClient client, List<Address> nodes, int genesisValidators, Func<(int Up, int Started)> processes, TextWriter output,
        long seconds, TaskCompletionSource ready, Task loading, CancellationTokenSource stop)
    {
        (long Count, TimeSpan At)? atLoad = null;
        var readySent = false;
        var started = Stopwatch.StartNew();
        (long Count, TimeSpan At)? lastCommitted = null;
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await tick.WaitForNextTickAsync(stop.Token))
            {
                var statuses = await Task.WhenAll(nodes.Select(node => Answer(client.Status(node, AskTimeout))));
                var answered = statuses.Where(s => s is not null).Select(s => s!.CommittedTransactions).ToList();
                var committed = answered.Count > 0 ? answered.Max() : lastCommitted?.Count ?? 0;
                var now = started.Elapsed;
                var perSecond = lastCommitted is { } last && now > last.At ? (long)((committed - last.Count) / (now - last.At).TotalSeconds) : 0;
                if (answered.Count > 0)
                {
                    lastCommitted = (committed, now);
                }

                if (!readySent && statuses.Take(genesisValidators).All(s => s is not null && s.PeersConnected >= genesisValidators - 1))
                {
                    readySent = true;
                    ready.TrySetResult();
                }

                if (atLoad is null && loading.IsCompleted)
                {
                    atLoad = (committed, now);
                }

                var heights = string.Join(" ", statuses.Select(s => s?.Height.ToString(CultureInfo.InvariantCulture) ?? "-"));
                var rounds = string.Join(" ", statuses.Select(s => s?.Round.ToString(CultureInfo.InvariantCulture) ?? "-"));
                var peers = string.Join(" ", statuses.Select(s => s?.PeersConnected.ToString(CultureInfo.InvariantCulture) ?? "-"));
                var newest = statuses.Where(s => s is not null).MaxBy(s => s!.Epoch);
                var set = newest is null ? "-" : $"{newest.SetSize} (epoch {newest.Epoch})";
                var (up, all) = processes();
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{started.Elapsed.TotalSeconds,4:0}s  height [{heights}]  round [{rounds}]  committed {perSecond} tx/s ({committed} total)  peers up [{peers}]  set {set}  nodes up {up}/{all}"));
                await output.FlushAsync(CancellationToken.None);
                if (seconds > 0 && started.Elapsed.TotalSeconds >= seconds)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        if (atLoad is not { } from || lastCommitted is not { } to || to.At <= from.At)
        {
            return readySent ? "no load was sent" : "the validators never all saw each other; no load was sent";
        }

        var span = (to.At - from.At).TotalSeconds;
        return string.Create(CultureInfo.InvariantCulture,
            $"committed {to.Count - from.Count} transactions in the {span:0} s since the load started: {(to.Count - from.Count) / span:0} tx/s");
    }

    private static void DeleteIfPresent(string directory)
    {
        if (directory.Length > 0 && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

/// <summary>What a localnet run was asked for: <paramref name="Nodes"/> is more than <paramref name="Validators"/> when the set grows.</summary>
internal sealed record LocalnetOptions(int Validators, int Nodes, string Application, long Rate, int TransactionBytes, long Seconds, string ConfigDirectory, bool Fresh);
