namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>
/// When execution takes a snapshot: after every block whose height is a multiple of <see cref="Interval"/> (a chain
/// parameter, since the snapshot's root goes into that height's app hash), written to <see cref="Directory"/> when the
/// node keeps snapshots, else only hashed.
/// </summary>
public sealed record SnapshotSchedule(long Interval, SnapshotDirectory? Directory, int ChunkBytes = StateSnapshot.DefaultChunkBytes)
{
    public bool IsDue(long height) => Interval > 0 && height > 0 && height % Interval == 0;
}
