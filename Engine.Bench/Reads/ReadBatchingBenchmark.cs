using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Akka.Actor;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Gateway;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Kwil.Transactions;
using IdOS.Akka.Engine.Network;
using IdOS.Akka.Engine.Rpc.Reads;

namespace IdOS.Akka.Engine.Bench.Reads;

/// <summary>
/// Reads/s through the RPC system with read batching off and on: one idOS validator in its own process (state with
/// users written through it), the RPC system in this one, and closed-loop HTTP clients each keeping one JSON-RPC read
/// outstanding — `user.call has_profile` (an anonymous view) and `user.account` (a nonce) in turn. Both modes run
/// against the same validator and state, one after the other, each after its own warm-up.
/// </summary>
internal static class ReadBatchingBenchmark
{
    public static Command Definition()
    {
        var clients = CommandLineApp.Count("--clients", "clients, each with one read outstanding", 64, 1, 4096);
        var seconds = CommandLineApp.Count("--seconds", "seconds measured per mode", 20, 1, 3600);
        var warmup = CommandLineApp.Count("--warmup", "seconds of load before each measured window", 5, 0, 600);
        var users = CommandLineApp.Count("--users", "idOS users registered before the run", 2000, 0, 1_000_000);
        var maxBatch = CommandLineApp.Count("--max-batch", "most reads in one batch", 128, 1, ReadBatchSettings.Limit);
        var maxInFlight = CommandLineApp.Count("--max-in-flight", "batches out at once", 2, 1, 1024);
        var command = new Command("reads", "Reads/s and latency of user.call and user.account through the RPC system, read batching off then on.")
        {
            clients, seconds, warmup, users, maxBatch, maxInFlight,
        };
        command.SetAction(parse => Run(parse.GetValue(clients), parse.GetValue(seconds), parse.GetValue(warmup), parse.GetValue(users),
            new ReadBatchSettings(TimeSpan.Zero, parse.GetValue(maxBatch), parse.GetValue(maxInFlight))));
        return command;
    }

    private static async Task<int> Run(int clients, int seconds, int warmup, int users, ReadBatchSettings batching)
    {
        var root = Directory.CreateTempSubdirectory("idos-reads-bench-").FullName;
        var port = LocalPorts.Free(1)[0];
        var configPath = Path.Combine(root, "node1.conf");
        await File.WriteAllTextAsync(configPath, $$"""
            idos.node {
              key-file = "{{Path.Combine(root, "node1", "validator.key")}}"
              genesis-file = "{{Path.Combine(root, "genesis.json")}}"
              data-directory = "{{Path.Combine(root, "node1")}}"
              rpc-members = [{ name = "bench", certificate-file = "{{Path.Combine(root, "rpc", "tls.crt")}}" }]
            }
            akka.remote.dot-netty.tcp { hostname = "127.0.0.1", port = {{port}} }
            akka.cluster.seed-nodes = ["akka.tcp://idos@127.0.0.1:{{port}}"]
            akka.loglevel = WARNING
            """);
        var config = NodeConfig.Load(configPath);
        var chain = LocalNetwork.Prepare([config], "idos-reads-bench", LocalnetCommand.OwnerKeyFile(config));
        var transport = LocalNetwork.MemberTransport(config);
        var node = NodeClient.NodeAddress("127.0.0.1", port, transport);
        var validator = NodeProcess.Start(["run", "--config", configPath], new StreamWriter(Path.Combine(root, "node1.log")) { AutoFlush = true });
        try
        {
            await using var client = NodeClient.Create(transport);
            var identities = await Populate(client, node, chain.ChainId, LocalnetCommand.OwnerKeyFile(config), users);
            Console.WriteLine($"validator 127.0.0.1:{port} (own process), {users} users written; {clients} clients, {warmup} s warm-up, {seconds} s measured; " +
                $"{Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd}");
            Console.WriteLine("| read batching | reads/s | p50 ms | p99 ms | errors |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, settings) in new[] { ("off", ReadBatchSettings.Off), ($"on (max-batch {batching.MaxBatch}, max-in-flight {batching.MaxInFlight})", batching) })
            {
                var result = await Measure(node, transport, settings, identities, clients, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(seconds));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {name} | {result.ReadsPerSecond:0} | {result.P50Ms:0.0} | {result.P99Ms:0.0} | {result.Errors} |"));
            }
        }
        finally
        {
            await validator.DisposeAsync();
            Directory.Delete(root, recursive: true);
        }

        return 0;
    }

    private sealed record Result(double ReadsPerSecond, double P50Ms, double P99Ms, long Errors);

    private static async Task<Result> Measure(Address node, TransportSecurity transport, ReadBatchSettings batching, List<byte[]> identities, int clients, TimeSpan warmup, TimeSpan duration)
    {
        var settings = new RpcSettings(new IPEndPoint(IPAddress.Loopback, 0), [node], 4 << 20, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30),
            TimeSpan.FromSeconds(10)) { ReadBatching = batching, Transport = transport };
        await using var rpc = await RpcHost.Start(settings);
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(60) };
        var bodies = identities.SelectMany(identity => new[] { AccountRead(identity), ProfileRead(identity) }).ToArray();

        using var stop = new CancellationTokenSource();
        var measuring = 0;
        var latencies = new List<double>[clients];
        var errors = 0L;
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = latencies[c] = new List<double>(1 << 16);
            var next = c;
            while (!stop.IsCancellationRequested)
            {
                var body = bodies[next++ % bodies.Length];
                var started = Stopwatch.GetTimestamp();
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(rpc.Endpoint, content);
                var answer = await response.Content.ReadAsStringAsync();
                if (Volatile.Read(ref measuring) == 1)
                {
                    if (response.IsSuccessStatusCode && answer.Contains("\"result\"", StringComparison.Ordinal))
                    {
                        mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }
        })).ToList();

        await Task.Delay(warmup);
        Volatile.Write(ref measuring, 1);
        var clock = Stopwatch.StartNew();
        await Task.Delay(duration);
        Volatile.Write(ref measuring, 0);
        var elapsed = clock.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(workers);

        var all = latencies.SelectMany(l => l).Order().ToList();
        return all.Count == 0
            ? new Result(0, 0, 0, errors)
            : new Result(all.Count / elapsed.TotalSeconds, all[(int)(all.Count * 0.50)], all[Math.Min(all.Count - 1, (int)(all.Count * 0.99))], errors);
    }

    /// <summary>Registers writers, has them create <paramref name="users"/> users, waits until all are executed; the writers' identifiers are what the clients read.</summary>
    private static async Task<List<byte[]>> Populate(NodeClient client, Address node, string chainId, string ownerKeyFile, int users)
    {
        var driver = new TransactionDriver(client, [node], chainId);
        using var ownerKey = KeyFiles.ReadPrivate(ownerKeyFile);
        var owner = KwilSigner.ForEd25519(ownerKey.PublicKey.Bytes, message => ownerKey.Sign(message));
        await WaitForFirstCommit(client, node);
        using var load = await IdosLoad.Prepare(driver, owner, 64, 1);
        var remaining = users;
        while (remaining > 0)
        {
            var chunk = load.Next(0, Math.Min(500, remaining));
            remaining -= chunk.Count;
            var submitted = await client.Submit(node, chunk, TimeSpan.FromSeconds(30));
            var refusals = submitted.Results.Where(r => r.Status != Engine.Consensus.MempoolAddStatus.Added).ToList();
            if (refusals.Count > 0)
            {
                var refused = refusals[0];
                throw new InvalidOperationException($"the validator refused a user write: {refused.Status} {refused.Reason}");
            }

            var last = submitted.Results[^1].Hash;
            while ((await client.Results(node, [last], TimeSpan.FromSeconds(10))).Results[0] is null)
            {
                await Task.Delay(100);
            }
        }

        return load.Identifiers;
    }

    private static async Task WaitForFirstCommit(NodeClient client, Address node)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            try
            {
                if ((await client.Status(node, TimeSpan.FromSeconds(2))).Height > 0)
                {
                    return;
                }
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException("the validator did not commit a block within 120 s", e);
                }
            }

            await Task.Delay(200);
        }
    }

    private static string AccountRead(byte[] identifier) => Request("user.account",
        new JsonObject { ["id"] = new JsonObject { ["identifier"] = Convert.ToHexStringLower(identifier), ["key_type"] = "ed25519" } });

    private static string ProfileRead(byte[] identifier)
    {
        var payload = ActionPayload.Encode(new ActionCall("main", "has_profile", [KwilValue.OfText("0x" + Convert.ToHexStringLower(identifier[..20]))]));
        return Request("user.call", new JsonObject { ["body"] = new JsonObject { ["payload"] = Convert.ToBase64String(payload) } });
    }

    private static string Request(string method, JsonObject parameters) =>
        new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = method, ["params"] = parameters }.ToJsonString();
}
