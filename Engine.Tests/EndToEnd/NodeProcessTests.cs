using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Persistence;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Four validators as separate processes of the built executable on real TCP: they commit the identical sequence of
/// blocks, survive kill -9 of one of them under load, and the restarted one catches up from its own storage and
/// its peers to the same head. Every accepted transaction is committed exactly once.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class NodeProcessTests
{
    [Fact]
    public async Task Four_processes_agree_keep_committing_through_a_kill_9_and_the_restarted_validator_catches_up()
    {
        using var network = new TestNetwork(4);
        await using var nodes = new NodeProcesses(network);
        for (var v = 0; v < 4; v++)
        {
            nodes.Start(v);
        }

        var ledger = new Ledger();
        for (var batch = 0; batch < 10; batch++)
        {
            await Eventually.Holds(async () =>
            {
                var (transactions, results) = await nodes.Submit(batch % 4, 100);
                ledger.Record(transactions, results);
                return (results is not null, $"validator {batch % 4} did not answer");
            }, $"validator {batch % 4} to take batch {batch}");
        }

        Assert.Equal(1_000, ledger.Accepted.Count);
        await AllCommitted(nodes, [0, 1, 2, 3], ledger, "all 4 to commit the first 1,000 transactions");

        using var load = new CancellationTokenSource();
        var background = Task.Run(() => DriveLoad(nodes, ledger, load.Token));
        var heightAtKill = (await nodes.Status(0))!.Height;
        nodes.Kill(3);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2]);
            return (statuses.All(s => s is not null && s.Height >= heightAtKill + 10), NodeProcesses.Describe(statuses));
        }, $"the other 3 to commit 10 more blocks after validator 3 was killed at height {heightAtKill}");

        nodes.Start(3);
        await Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            var caughtUp = statuses.All(s => s is not null) && statuses[3]!.Height >= statuses.Take(3).Min(s => s!.Height);
            return (caughtUp, NodeProcesses.Describe(statuses));
        }, "the restarted validator 3 to reach the others' height", TimeSpan.FromSeconds(120));

        await load.CancelAsync();
        await background;
        await AllCommitted(nodes, [0, 1, 2, 3], ledger, "all 4 to commit every accepted transaction");

        var statusesAtEnd = await nodes.Statuses([0, 1, 2, 3]);
        var height = statusesAtEnd.Min(s => s!.Height);
        Assert.True(height > heightAtKill + 10, NodeProcesses.Describe(statusesAtEnd));
        var reference = network.CommittedIds(0, height);
        for (var v = 1; v < 4; v++)
        {
            Assert.Equal(reference, network.CommittedIds(v, height));
        }

        for (var v = 0; v < 4; v++)
        {
            using var store = new SqliteBlockStore(network.BlockStorePath(v), network.Chain.Limits);
            var committed = store.AllTransactionHashes();
            Assert.Equal(committed.Count, committed.Distinct().Count());
            Assert.Empty(ledger.Accepted.Where(h => !committed.Contains(h)).Take(5));
            Assert.Empty(committed.Where(h => !ledger.Submitted.Contains(h)).Take(5));
        }
    }

    [Fact]
    public async Task A_validator_killed_between_persisting_and_sending_its_vote_resumes_and_never_signs_a_different_vote_for_that_round()
    {
        const int FaultRound = 6;
        using var network = new TestNetwork(4);
        var faultyFile = network.ConfigPaths[1];
        var original = await File.ReadAllTextAsync(faultyFile);
        await File.WriteAllTextAsync(faultyFile, original + $"\nidos.node.test-fault.exit-after-persisting-vote-in-round = {FaultRound}\n");
        await using var nodes = new NodeProcesses(network);
        for (var v = 0; v < 4; v++)
        {
            nodes.Start(v);
        }

        await nodes.WaitForExit(1, TimeSpan.FromSeconds(120));
        Assert.Contains("fault point: exiting after persisting the vote", nodes.Log(1), StringComparison.Ordinal);
        var crashVote = JournaledVotes(network, 1).Last();
        Assert.True(crashVote.Round >= FaultRound, $"the fault fired at round {crashVote.Round}");

        await File.WriteAllTextAsync(faultyFile, original + "\nakka.loglevel = INFO\n");
        nodes.Start(1);
        await Eventually.Holds(async () =>
        {
            // A restarted validator can pass rounds on the certificates it syncs before it votes again, so the
            // round alone does not show it resumed voting; its journal does.
            var statuses = await nodes.Statuses([0, 1, 2, 3]);
            var votedSinceRestart = JournaledVotes(network, 1).Any(v => v.Round > crashVote.Round);
            return (votedSinceRestart && statuses.All(s => s is not null && s.Round > crashVote.Round + 5 && s.Height > 3),
                $"voted since restart: {votedSinceRestart}; {NodeProcesses.Describe(statuses)}");
        }, $"all 4, the restarted one included, to pass round {crashVote.Round + 5} and 1 to vote again", TimeSpan.FromSeconds(120));
        Assert.Matches($"resumes in epoch 0 as validator 1 of 4 at height \\d+, round \\d+ \\(last voted round {crashVote.Round}\\)", nodes.Log(1));
        var height = (await nodes.Statuses([0, 1, 2, 3])).Min(s => s!.Height);
        await nodes.DisposeAsync();

        // Every vote validator 1 ever journaled, across the crash: never two different blocks for one round.
        var votes = JournaledVotes(network, 1);
        Assert.Contains(votes, v => v.Round > crashVote.Round);
        Assert.All(votes.GroupBy(v => v.Round), round => Assert.Single(round.Select(v => v.BlockId).Distinct()));

        // Every signature of validator 1 that reached a committed certificate is for the block it journaled.
        var journaledBlock = votes.GroupBy(v => v.Round).ToDictionary(g => g.Key, g => g.First().BlockId);
        for (var v = 0; v < 4; v++)
        {
            using var store = new SqliteBlockStore(network.BlockStorePath(v), network.Chain.Limits);
            for (var h = 1; h <= Math.Min(height, store.Height); h++)
            {
                var qc = store.CertificateAt(h)!;
                if (SignerBitmap.IsSet(qc.Signers, 1))
                {
                    Assert.True(journaledBlock.TryGetValue(qc.Round, out var block) && block == qc.BlockId,
                        $"validator {v}'s certificate at height {h} carries validator 1's signature for round {qc.Round}, which its journal does not hold");
                }
            }
        }
    }

    [Fact]
    public async Task A_node_whose_port_is_taken_or_whose_key_is_not_a_validator_stops_at_start_with_one_clear_message()
    {
        using var network = new TestNetwork(4);
        using var occupier = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, network.Ports[0]);
        occupier.Start();
        var (portExit, portError) = await RunToExit(network.ConfigPaths[0]);
        Assert.Equal(1, portExit);
        Assert.Contains($"akka.remote.dot-netty.tcp.port {network.Ports[0]} on 127.0.0.1 cannot be bound", portError, StringComparison.Ordinal);
        occupier.Stop();

        var stranger = Path.Combine(network.Root, "stranger.key");
        KeyFiles.Generate(stranger);
        var file = Path.Combine(network.Root, "stranger.conf");
        await File.WriteAllTextAsync(file, await File.ReadAllTextAsync(network.ConfigPaths[1]) + $"\nidos.node.key-file = \"{stranger}\"\n");
        var (keyExit, keyError) = await RunToExit(file);
        Assert.Equal(1, keyExit);
        Assert.Contains("is not a validator of chain idos-akka-test", keyError, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Error)> RunToExit(string configPath)
    {
        var info = new System.Diagnostics.ProcessStartInfo(NodeProcesses.Executable) { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add("run");
        info.ArgumentList.Add("--config");
        info.ArgumentList.Add(configPath);
        using var process = System.Diagnostics.Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail($"the node with {configPath} was still running after 60 s; output: {await output}");
        }

        return (process.ExitCode, await error + await output);
    }

    /// <summary>The votes in a validator's journal, in the order it recorded them.</summary>
    private static List<Vote> JournaledVotes(TestNetwork network, int validator)
    {
        var path = Path.Combine(network.DataDirectory(validator), PersistenceConfig.FileName);
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT message FROM journal WHERE manifest = 'SS' ORDER BY sequence_number";
        using var reader = command.ExecuteReader();
        var votes = new List<Vote>();
        while (reader.Read())
        {
            Assert.True(ConsensusCodec.TryDecodeSafetyState((byte[])reader[0], network.Chain.Limits, out var state, out var error), error);
            if (state.LastVote is { } vote && (votes.Count == 0 || votes[^1] != vote))
            {
                votes.Add(vote);
            }
        }

        return votes;
    }

    /// <summary>Every accepted transaction committed on each of these validators, as their status reports it.</summary>
    private static Task AllCommitted(NodeProcesses nodes, int[] validators, Ledger ledger, string what) =>
        Eventually.Holds(async () =>
        {
            var statuses = await nodes.Statuses(validators);
            return (statuses.All(s => s is not null && s.CommittedTransactions >= ledger.Accepted.Count && s.PendingTransactions == 0),
                $"{ledger.Accepted.Count} accepted; {NodeProcesses.Describe(statuses)}");
        }, what, TimeSpan.FromSeconds(120));

    private static async Task DriveLoad(NodeProcesses nodes, Ledger ledger, CancellationToken stop)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var validator = i % 4;
            if (nodes.IsRunning(validator))
            {
                var (transactions, results) = await nodes.Submit(validator, 20);
                ledger.Record(transactions, results);
            }

            try
            {
                await Task.Delay(50, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>What the test submitted and what the nodes said they accepted.</summary>
    private sealed class Ledger
    {
        public HashSet<Hash32> Submitted { get; } = [];

        public HashSet<Hash32> Accepted { get; } = [];

        public void Record(List<byte[]> transactions, Engine.Network.SubmitResults? results)
        {
            lock (this)
            {
                foreach (var transaction in transactions)
                {
                    Submitted.Add(Block.TransactionHash(transaction));
                }

                foreach (var result in results?.Results ?? [])
                {
                    if (result.Status == MempoolAddStatus.Added)
                    {
                        Accepted.Add(result.Hash);
                    }
                }
            }
        }
    }
}
