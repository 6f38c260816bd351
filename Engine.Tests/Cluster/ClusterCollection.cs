using Xunit;

namespace IdOS.Akka.Engine.Tests.Cluster;

/// <summary>Clusters run one at a time: on 2 cores, parallel clusters starve each other's heartbeats.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialClusters
{
    public const string Name = "Cluster";
}
