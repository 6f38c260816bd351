using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Cli.Localnet;
using IdOS.Akka.Engine.Tests.Cluster;
using Xunit;

namespace IdOS.Akka.Engine.Tests.EndToEnd;

/// <summary>
/// Governance as an operator runs it: the `validator` commands sign with key files made by keygen and go through the
/// RPC system to four validator processes, which execute them in blocks; `validator list` reads the result from a
/// node's state.
/// </summary>
[Trait("Category", "Process")]
[Collection(SerialClusters.Name)]
public sealed class GovernanceProcessTests
{
    private const int SnapshotInterval = 50;

    [Fact]
    public async Task A_candidate_asks_to_join_three_of_four_validators_approve_and_the_next_epoch_is_scheduled_with_five()
    {
        using var network = new TestNetwork(4, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        var url = rpc.Endpoint.GetLeftPart(UriPartial.Authority);
        var candidateKey = Path.Combine(network.Root, "candidate", "validator.key");
        Directory.CreateDirectory(Path.GetDirectoryName(candidateKey)!);
        Assert.Equal(0, KeyCommands.Keygen(["--out", candidateKey], TextWriter.Null));
        var candidate = Engine.Hosting.KeyFiles.ReadValidator(candidateKey + ".pub").Key.ToString();

        var (joinCode, joined) = await Validator("join", "--key", candidateKey, "--rpc", url, "--address", "127.0.0.1:4799");
        var (outsiderCode, outsider) = await Validator("approve", "--key", candidateKey, "--rpc", url, "--candidate", candidate);
        List<(int, string)> approvals = [];
        for (var v = 0; v < 3; v++)
        {
            approvals.Add(await Validator("approve", "--key", network.KeyFile(v), "--rpc", url, "--candidate", candidate));
        }

        // The RPC system answered once one validator executed the last approval; validator 3 may not have yet.
        var (listCode, list) = (0, "");
        await Eventually.Holds(async () =>
        {
            (listCode, list) = await Validator("list", "--config", network.ConfigPaths[3]);
            return (list.Contains("epoch 1: 5 validators", StringComparison.Ordinal), list);
        }, "validator 3's state to hold the scheduled epoch");

        Assert.True(joinCode == 0, joined);
        Assert.Equal(1, outsiderCode);
        Assert.Contains("refused (code 10)", outsider, StringComparison.Ordinal);
        Assert.All(approvals, a => Assert.True(a.Item1 == 0, a.Item2));
        Assert.Contains("epoch 1 of 5 validators starts at height", approvals[2].Item2, StringComparison.Ordinal);
        Assert.True(listCode == 0, list);
        Assert.Contains("epoch 0: 4 validators", list, StringComparison.Ordinal);
        Assert.Contains("epoch 1: 5 validators", list, StringComparison.Ordinal);
        Assert.Contains($"  {candidate} 127.0.0.1:4799 pin ", list, StringComparison.Ordinal);
    }

    /// <summary>
    /// The whole life of a set under an idOS load: a node with an empty data folder and a key genesis does not list
    /// asks to join, three of four approve, and it starts from a state snapshot (the peers have pruned the bodies
    /// before it), follows the chain without a vote until its epoch and votes from then on: with one original validator
    /// killed, the other three cannot commit without it. The three then remove the dead one; from the next epoch four
    /// commit without it, a restarted validator resumes in that epoch, a wiped one starts there from a snapshot taken
    /// after both changes, and all hold one app hash.
    /// </summary>
    [Fact]
    public async Task A_node_joins_by_governance_from_a_snapshot_votes_in_its_epoch_and_a_dead_validator_is_removed_in_the_next()
    {
        const int Joiner = 4;
        using var network = new TestNetwork(4, """
            idos.consensus.idle-interval = 100ms
            idos.node.retention { blocks = 150, interval = 1s }
            akka.loglevel = INFO
            """, application: "idos", snapshotInterval: SnapshotInterval, joiners: 1);
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        var url = rpc.Endpoint.GetLeftPart(UriPartial.Authority);
        var owner = IdosNetworkProcessTests.OwnerOf(network, out var ownerKey);
        using var disposeOwner = ownerKey;
        using var writers = await IdosLoad.Prepare(new TransactionDriver(nodes.Client, nodes.Addresses, network.Chain.ChainId), owner, 6, 3);
        await IdosNetworkProcessTests.Write(nodes, writers, 6);
        await Eventually.Holds(async () =>
        {
            using var store = new SqliteBlockStore(network.BlockStorePath(0), network.Chain.Limits);
            return (store.PrunedHeight > SnapshotInterval, $"pruned to {store.PrunedHeight}");
        }, "the validators to prune bodies past a snapshot", TimeSpan.FromSeconds(120));

        string candidate;
        using (var key = Engine.Hosting.KeyFiles.ReadPrivate(network.KeyFile(Joiner)))
        {
            candidate = key.PublicKey.ToString();
        }

        var joined = await Validator("join", "--key", network.KeyFile(Joiner), "--rpc", url, "--address", $"127.0.0.1:{network.Ports[Joiner]}");
        Assert.True(joined.Code == 0, joined.Output);
        var epoch1 = await Decide(3, v => Validator("approve", "--key", network.KeyFile(v), "--rpc", url, "--candidate", candidate), "epoch 1 of 5");

        // The test's client knows the validators by their genesis pins, as an RPC system does; the joined one's it learns here.
        network.Transport.AdmitJoinedValidators([Engine.Hosting.TlsFiles.PinOf(Engine.Hosting.KeyFiles.TlsCertificateBeside(network.KeyFile(Joiner)))]);
        nodes.Start(Joiner);
        await IdosNetworkProcessTests.Write(nodes, writers, 3);
        await Holds(nodes, async () =>
        {
            var status = await nodes.Status(Joiner);
            return (status is { Epoch: 1, SetSize: 5, Voting: true } && status.ExecutedHeight > epoch1, NodeProcesses.Describe([status]));
        }, "the joined node to execute in its epoch");
        Assert.Contains("State sync: imported the snapshot at height", nodes.FullLog(Joiner), StringComparison.Ordinal);

        // A quorum of five is four: without validator 3, the chain moves only with the joined node's votes.
        nodes.Kill(3);
        var withoutThree = (await nodes.Status(0))!.Height;
        await IdosNetworkProcessTests.Write(nodes, writers, 2);
        await Holds(nodes, async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, Joiner]);
            return (statuses.All(s => s?.Height > withoutThree + 10), NodeProcesses.Describe(statuses));
        }, "four of five, the joined node among them, to commit with validator 3 dead");

        var dead = network.Chain.Validators[3].ToString();
        var epoch2 = await Decide(3, v => Validator("remove", "--key", network.KeyFile(v), "--rpc", url, "--target", dead), "epoch 2 of 4");
        await Holds(nodes, async () =>
        {
            var statuses = await nodes.Statuses([0, 1, 2, Joiner]);
            return (statuses.All(s => s is { Epoch: 2, SetSize: 4, Voting: true } && s.Height > epoch2 + 10), NodeProcesses.Describe(statuses));
        }, "the four to commit in epoch 2, without validator 3");

        // Restarted, a validator knows from its chain which epoch it is in, and votes there again.
        await nodes.Stop(1, TimeSpan.FromSeconds(30));
        var beforeRestart = (await nodes.Status(0))!.Height;
        nodes.Start(1);
        await Holds(nodes, async () =>
        {
            var status = await nodes.Status(1);
            return (status is { Epoch: 2, Voting: true } && status.Height > beforeRestart + 10, NodeProcesses.Describe([status]));
        }, "the restarted validator to commit in epoch 2");

        // Wiped, a validator starts from a snapshot taken after both changes: the headers up to it cross each change
        // with the proof the old set certified, and its peers, the joined one among them, follow from the state.
        await Holds(nodes, async () =>
        {
            var status = await nodes.Status(0);
            return (status?.ExecutedHeight > epoch2 + (2 * SnapshotInterval), NodeProcesses.Describe([status]));
        }, "a snapshot past epoch 2's start");
        await nodes.Stop(2, TimeSpan.FromSeconds(30));
        CatchUpProcessTests.WipeAllButKeys(network.DataDirectory(2));
        var beforeWipe = (await nodes.Status(0))!.Height;
        nodes.Start(2);
        await Holds(nodes, async () =>
        {
            var status = await nodes.Status(2);
            return (status is { Epoch: 2, Voting: true } && status.Height > beforeWipe + 10, NodeProcesses.Describe([status]));
        }, "the wiped validator to commit in epoch 2 from a snapshot");
        var synced = nodes.FullLog(2);
        Assert.Contains("State sync: imported the snapshot at height", synced, StringComparison.Ordinal);
        Assert.Contains("State sync: epoch 0 ended at height", synced, StringComparison.Ordinal);
        Assert.Contains("State sync: epoch 1 ended at height", synced, StringComparison.Ordinal);

        // A node records an app hash with its next block-store write, so another connection may see it a block late.
        await Holds(nodes, async () =>
        {
            var status = await nodes.Status(2);
            return (status?.ExecutedHeight > beforeWipe, NodeProcesses.Describe([status]));
        }, "the wiped validator to execute past the snapshot");
        var common = (await nodes.Statuses([0, 1, 2, Joiner])).Min(s => s!.ExecutedHeight) - 1;
        List<Engine.Crypto.Hash32?> hashes = [];
        await Eventually.Holds(() =>
        {
            hashes = [.. new[] { 0, 1, 2, Joiner }.Select(v => AppHashAt(network, v, common))];
            return Task.FromResult((hashes.All(h => h is not null), string.Join(", ", hashes)));
        }, $"the four app hashes at height {common} to be recorded");
        Assert.All(hashes, h => Assert.Equal(hashes[0], h));
    }

    /// <summary>Runs the governance command of validators 0, 1, ... until <paramref name="count"/> passed; returns the height the last one's epoch starts at.</summary>
    private static async Task<long> Decide(int count, Func<int, Task<(int Code, string Output)>> command, string epoch)
    {
        var output = "";
        for (var v = 0; v < count; v++)
        {
            var (code, text) = await command(v);
            Assert.True(code == 0, text);
            output = text;
        }

        var scheduled = System.Text.RegularExpressions.Regex.Match(output, $"{epoch} validators starts at height ([0-9]+)");
        Assert.True(scheduled.Success, output);
        return long.Parse(scheduled.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task Holds(NodeProcesses nodes, Func<Task<(bool Done, string Observed)>> condition, string what)
    {
        try
        {
            await Eventually.Holds(condition, what, TimeSpan.FromSeconds(180));
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }
    }

    private static Engine.Crypto.Hash32? AppHashAt(TestNetwork network, int validator, long height)
    {
        using var store = new SqliteBlockStore(network.BlockStorePath(validator), network.Chain.Limits);
        return store.AppHashAt(height);
    }

    private static async Task<(int Code, string Output)> Validator(params string[] args)
    {
        using var output = new StringWriter();
        var code = await ValidatorCommand.Run(args, output);
        return (code, output.ToString());
    }
}
