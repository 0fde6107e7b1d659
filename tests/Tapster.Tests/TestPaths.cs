namespace Tapster.Tests;

/// <summary>Locates the repository (the folder holding Tapster.slnx) from the test binaries.</summary>
internal static class TestPaths
{
    public static string Root { get; } = FindRoot();

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tapster.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (Tapster.slnx) above " + AppContext.BaseDirectory);
    }
}
