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

    private static async Task<(int Code, string Output)> Validator(params string[] args)
    {
        using var output = new StringWriter();
        var code = await ValidatorCommand.Run(args, output);
        return (code, output.ToString());
    }
}
