namespace IdOS.Akka.Engine.Kwil.Catalog;

/// <summary>A declared parameter: its name (for error messages), its Kwil type, and whether NULL is allowed.</summary>
public sealed record ActionParameter(string Name, string Type, bool Nullable = false);
