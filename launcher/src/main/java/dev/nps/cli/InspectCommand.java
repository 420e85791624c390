package dev.nps.cli;

import dev.nps.storage.Checkpoint;
import dev.nps.storage.Shapes;
import dev.nps.storage.StorageException;
import dev.nps.storage.TensorInfo;
import dev.nps.storage.onnx.OnnxModel;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "List the tensors of a safetensors file or sharded checkpoint directory, or the inputs, outputs"
                + " and initializers of an ONNX graph.")
final class InspectCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE", description = "a .safetensors file, a checkpoint directory, or a .onnx graph")
    Path file;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        if (file.getFileName() != null && file.getFileName().toString().endsWith(".onnx")) {
            if (Files.isDirectory(file)) {
                throw new StorageException(file + " is a directory, expected an ONNX file");
            }
            inspectOnnx(OnnxModel.load(file), out);
        } else {
            try (Checkpoint c = Checkpoint.open(file)) {
                inspectCheckpoint(c, out);
            }
        }
        return 0;
    }

    private void inspectCheckpoint(Checkpoint c, PrintStream out) {
        out.printf("%s: %d tensors%n", file, c.names().size());
        Map<dev.nps.storage.DType, Long> perType = new EnumMap<>(dev.nps.storage.DType.class);
        long bytes = 0;
        for (String name : c.names()) {
            TensorInfo t = c.info(name);
            out.printf("  %-48s %-5s %s%n", name, t.dtype(), Shapes.format(t.shape()));
            perType.merge(t.dtype(), t.elementCount(), Long::sum);
            bytes += t.byteLength();
        }
        out.printf("elements by dtype: %s; data bytes: %d%n", perType, bytes);
        if (!c.metadata().isEmpty()) {
            out.println("metadata: " + c.metadata());
        }
    }

    private void inspectOnnx(OnnxModel m, PrintStream out) {
        var graph = m.proto().getGraph();
        out.printf("%s: ONNX IR %d, opsets %s, %d nodes, %d initializers%n", file, m.proto().getIrVersion(),
                m.proto().getOpsetImportList().stream().map(o -> (o.getDomain().isEmpty() ? "ai.onnx" : o.getDomain())
                        + ":" + o.getVersion()).toList(), graph.getNodeCount(), m.initializers().size());
        for (var i : m.inputs()) {
            out.printf("  input  %-40s %s%n", i.name(), Shapes.format(i.shape()));
        }
        for (var o : m.outputs()) {
            out.printf("  output %-40s %s%n", o.name(), Shapes.format(o.shape()));
        }
        long params = 0;
        for (var init : m.initializers()) {
            out.printf("  init   %-40s %-5s %s%n", init.name(), init.dtype(), Shapes.format(init.shape()));
            if (init.isFloating()) {
                params += Shapes.elementCount(init.shape());
            }
        }
        out.printf("floating-point parameters: %d%n", params);
    }
}
