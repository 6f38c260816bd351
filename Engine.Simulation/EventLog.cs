using System.Security.Cryptography;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>
/// A world's event log: every processed event and every commit, hashed as they happen, so that a seed that replays
/// exactly gives the same hash, in this process or another.
/// </summary>
internal sealed class EventLog
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public void Event(long now, SimEvent e)
    {
        Span<byte> record = stackalloc byte[8 + 1 + 4 + 4 + 8 + 8];
        BitConverter.TryWriteBytes(record, now);
        record[8] = (byte)e.Kind;
        BitConverter.TryWriteBytes(record[9..], e.Instance);
        BitConverter.TryWriteBytes(record[13..], e.From);
        BitConverter.TryWriteBytes(record[17..], e.Round);
        BitConverter.TryWriteBytes(record[25..], e.Generation);
        _hash.AppendData(record);
        if (e.Payload is not null)
        {
            _hash.AppendData(e.Payload);
        }
    }

    public void Commit(SimInstance instance, Block block)
    {
        Span<byte> record = stackalloc byte[4 + 8 + Hash32.Size];
        BitConverter.TryWriteBytes(record, instance.Id);
        BitConverter.TryWriteBytes(record[4..], block.Height);
        block.Id.WriteTo(record[12..]);
        _hash.AppendData(record);
    }

    /// <summary>The log's hash; the log takes nothing more after it.</summary>
    public string Finish()
    {
        var hash = Convert.ToHexStringLower(_hash.GetHashAndReset());
        _hash.Dispose();
        return hash;
    }

    public static string Describe(ConsensusMessage message) => message switch
    {
        Proposal p => $"proposal {p.Block} qc=r{p.Block.Header.Justify.Round}{(p.LastRoundTc is null ? "" : $" tc=r{p.LastRoundTc.Round}")}",
        Vote v => $"vote r{v.Round} for {v.BlockId.ToShortString()} by {v.Voter}",
        TimeoutVote t => $"timeout r{t.Round} hqc=r{t.HighQc.Round} by {t.Voter}",
        EpochEnd e => $"epoch end of h{e.Proof.LastHeight} with {e.Proof.Suffix.Count} blocks above, qc=r{e.Proof.Certificate.Round}",
        EpochEndRequest q => $"epoch end request for epoch {q.Epoch}",
        RoundSync s => $"round sync qc=r{s.HighQc.Round}{(s.LastRoundTc is null ? "" : $" tc=r{s.LastRoundTc.Round}")}",
        BlockRequest r => $"block request {r.BlockId.ToShortString()} above h{r.KnownCommittedHeight}",
        BlockResponse r => $"block response {r.RequestedId.ToShortString()} with {r.Blocks.Count} blocks",
        BlockRangeRequest r => $"block range request from h{r.FromHeight}",
        BlockRangeResponse r => $"block range response from h{r.FromHeight} with {r.Blocks.Count} blocks (pruned to h{r.PrunedHeight})",
        _ => message.GetType().Name,
    };
}
