using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using IdOS.Akka.Engine.Cli;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Simulation;

namespace IdOS.Akka.Engine.Bench.Snapshots;

/// <summary>
/// How fast a node starting from a snapshot checks the chain from genesis by headers: a chain of N blocks of 4
/// validators (each with 100 transaction hashes, every QC signed by 3), fed to <see cref="HeaderChain"/> 1,024 headers
/// at a time as the sync actor receives them.
/// </summary>
internal static class HeaderSyncBenchmark
{
    public static Command Definition()
    {
        var count = CommandLineApp.Count("--count", "blocks in the chain", 10_000, 1, 10_000_000);
        var command = new Command("headers", "How fast a node starting from a snapshot checks the chain from genesis by headers.") { count };
        command.SetAction(parse => Run(parse.GetValue(count), parse.Output()));
        return command;
    }

    private static int Run(int count, TextWriter output)
    {
        var keys = Enumerable.Range(0, 4).Select(SimWorld.ValidatorKey).ToArray();
        var chain = new ChainParameters("header-bench", new ValidatorSet([.. keys.Select(k => k.PublicKey)]), 1_700_000_000_000);
        var transactions = Enumerable.Range(0, 100).Select(i => BitConverter.GetBytes(i)).ToArray();
        var headers = new List<PrunedBlock>(count);
        var parent = chain.GenesisBlock;
        var justify = chain.GenesisQc;
        for (var round = 1; round <= count; round++)
        {
            var block = Block.Create(round, round, justify, round % 4, parent.Header.Timestamp + 1, transactions, 0, chain.GenesisAppHash, setHash: chain.Validators.Hash);
            headers.Add(new PrunedBlock(block.Header, block.TransactionHashes));
            justify = new QuorumCertificate(block.Id, round, SignerBitmap.Create(4, [0, 1, 2]),
                [.. keys.Take(3).Select(k => k.Sign(chain.Domain.Vote(block.Id, round)))]);
            parent = block;
        }

        var follower = new HeaderChain(chain, Ed25519Verifier.Instance);
        var watch = Stopwatch.StartNew();
        foreach (var batch in headers.Chunk(HeaderRangeRequest.Limit))
        {
            var (_, refusal) = follower.Add(batch);
            if (refusal is not null)
            {
                throw new InvalidOperationException(refusal);
            }
        }

        var seconds = watch.Elapsed.TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count:N0} headers checked in {seconds:F2} s: {count / seconds:N0} headers/s, {follower.CommittedHeight:N0} committed"));
        return 0;
    }
}
