using Akka.Configuration;
using IdOS.Akka.Engine.Consensus;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>The `idos.consensus` section of a node's HOCON, read once at start; a bad value stops the node with its path.</summary>
public sealed record ConsensusSettings(PacemakerPolicy Pacemaker, ConsensusLimits Limits, int MaxExecutionLagBlocks)
{
    public const string Section = "idos.consensus";

    public static ConsensusSettings FromConfig(Config config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var section = config.GetConfig(Section)
            ?? throw new ConfigurationException($"The configuration has no {Section} section.");
        var baseTimeout = Milliseconds(section, "base-round-timeout");
        var maxTimeout = Milliseconds(section, "max-round-timeout");
        if (maxTimeout < baseTimeout)
        {
            throw new ConfigurationException($"{Section}.max-round-timeout ({maxTimeout} ms) is below base-round-timeout ({baseTimeout} ms).");
        }

        var limits = new ConsensusLimits
        {
            MaxTransactionsPerBlock = Count(section, "max-transactions-per-block", 1, 1_000_000),
            MaxTransactionBytes = Bytes(section, "max-transaction-bytes"),
            MaxBlockBytes = Bytes(section, "max-block-bytes"),
            MaxBlocksPerResponse = Count(section, "max-blocks-per-sync-response", 1, ushort.MaxValue),
            MaxClockDriftMs = Milliseconds(section, "max-clock-drift"),
        };
        if (limits.MaxTransactionBytes > limits.MaxBlockBytes)
        {
            throw new ConfigurationException($"{Section}.max-transaction-bytes is larger than max-block-bytes.");
        }

        var idle = section.HasPath("idle-interval") ? Read(section, "idle-interval", () => section.GetTimeSpan("idle-interval", null, allowInfinite: false)) : TimeSpan.FromSeconds(1);
        if (idle < TimeSpan.Zero || idle > TimeSpan.FromMinutes(10))
        {
            throw new ConfigurationException($"{Section}.idle-interval must be from 0 (never wait) to 10 minutes, got {idle}.");
        }

        var maxLag = section.HasPath("max-execution-lag") ? Count(section, "max-execution-lag", 1, 100_000) : ReplicaOptions.Default.MaxExecutionLagBlocks;
        return new ConsensusSettings(new PacemakerPolicy(baseTimeout, maxTimeout) { IdleIntervalMs = (long)idle.TotalMilliseconds }, limits, maxLag);
    }

    private static long Milliseconds(Config section, string key)
    {
        var value = Read(section, key, () => section.GetTimeSpan(key, null, allowInfinite: false));
        return value > TimeSpan.Zero
            ? (long)value.TotalMilliseconds
            : throw new ConfigurationException($"{Section}.{key} must be a positive duration, got {value}.");
    }

    private static int Bytes(Config section, string key)
    {
        var value = Read(section, key, () => section.GetByteSize(key));
        return value is > 0 and <= int.MaxValue / 2
            ? (int)value.Value
            : throw new ConfigurationException($"{Section}.{key} must be a size from 1 byte to 1 GiB, got {value}.");
    }

    private static int Count(Config section, string key, int min, int max)
    {
        var value = Read(section, key, () => section.GetInt(key));
        return value >= min && value <= max
            ? value
            : throw new ConfigurationException($"{Section}.{key} must be from {min} to {max}, got {value}.");
    }

    private static T Read<T>(Config section, string key, Func<T> read)
    {
        if (!section.HasPath(key))
        {
            throw new ConfigurationException($"{Section}.{key} is missing.");
        }

        try
        {
            return read();
        }
        catch (Exception e) when (e is not ConfigurationException)
        {
            throw new ConfigurationException($"{Section}.{key} cannot be read: {e.Message}");
        }
    }
}
