using IdOS.Akka.Engine.Cli;
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

    [Fact]
    public async Task Three_of_five_validators_remove_the_fifth_and_from_the_next_epoch_on_four_commit_without_it_and_resume_there_after_a_restart()
    {
        using var network = new TestNetwork(5, application: "idos");
        await using var nodes = new NodeProcesses(network);
        await using var rpc = await RpcProcessTests.StartWithRpc(nodes);
        var url = rpc.Endpoint.GetLeftPart(UriPartial.Authority);
        var target = network.Chain.Validators[4].ToString();

        List<(int Code, string Output)> removals = [];
        for (var v = 0; v < 3; v++)
        {
            removals.Add(await Validator("remove", "--key", network.KeyFile(v), "--rpc", url, "--target", target));
        }

        Assert.All(removals, r => Assert.True(r.Code == 0, r.Output));
        var scheduled = System.Text.RegularExpressions.Regex.Match(removals[2].Output, "epoch 1 of 4 validators starts at height ([0-9]+)");
        Assert.True(scheduled.Success, removals[2].Output);
        var start = long.Parse(scheduled.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

        // Four validators commit well into epoch 1 (a quorum of three among them, so validator 4 is not needed), and
        // validator 4 stops voting.
        try
        {
            await Eventually.Holds(async () =>
            {
                var statuses = await nodes.Statuses(Enumerable.Range(0, 5));
                var four = statuses.Take(4).All(s => s is { Epoch: 1, SetSize: 4, Voting: true } && s.Height >= start + 20);
                return (four && statuses[4] is { Voting: false }, NodeProcesses.Describe(statuses));
            }, "the four to commit 20 blocks into epoch 1 and the fifth to retire");
        }
        catch (Xunit.Sdk.XunitException e)
        {
            throw nodes.WithLogs(e);
        }

        Assert.Contains("has no vote in epoch 1", nodes.FullLog(4), StringComparison.Ordinal);

        var common = (await nodes.Statuses(Enumerable.Range(0, 4))).Min(s => s!.ExecutedHeight);
        await nodes.Stop(1, TimeSpan.FromSeconds(30));
        var hashes = Enumerable.Range(0, 4).Select(v => AppHashAt(network, v, common)).ToList();
        Assert.All(hashes, h => Assert.Equal(hashes[0], h));
        Assert.NotNull(hashes[0]);

        // Restarted, validator 1 knows from its chain which epoch it is in, and votes there again.
        var before = (await nodes.Status(0))!.Height;
        nodes.Start(1);
        await Eventually.Holds(async () =>
        {
            var status = await nodes.Status(1);
            return (status is { Epoch: 1, Voting: true } && status.Height > before + 10, $"{status}");
        }, "the restarted validator to commit in epoch 1");
    }

    private static Engine.Crypto.Hash32? AppHashAt(TestNetwork network, int validator, long height)
    {
        using var store = new Engine.Chain.SqliteBlockStore(network.BlockStorePath(validator), network.Chain.Limits);
        return store.AppHashAt(height);
    }

    private static async Task<(int Code, string Output)> Validator(params string[] args)
    {
        using var output = new StringWriter();
        var code = await ValidatorCommand.Run(args, output);
        return (code, output.ToString());
    }
}
