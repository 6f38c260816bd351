using Akka.Configuration;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// The shipped defaults (hocon/node.conf, embedded in the executable so a node never runs with a different copy)
/// and the layering of a per-node file over them. HOCON `include` is broken in Akka.NET 1.5.74, hence WithFallback.
/// </summary>
public static class NodeConfig
{
    private static readonly Lazy<string> DefaultsText = new(() =>
    {
        using var stream = typeof(NodeConfig).Assembly.GetManifestResourceStream("node.conf")
            ?? throw new InvalidOperationException("The executable was built without its embedded node.conf.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public static Config Defaults => ConfigurationFactory.ParseString(DefaultsText.Value);

    /// <summary>Reads a node's own file and layers it over the defaults; a missing or unparsable file is one clear error.</summary>
    public static Config Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"The node configuration {path} cannot be read: {e.Message}");
        }

        Config own;
        try
        {
            own = ConfigurationFactory.ParseString(text);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ConfigurationException($"The node configuration {path} is not valid HOCON: {e.Message}");
        }

        return own.WithFallback(Defaults);
    }
}
