from iceberg_bioimage.cli import run

run()
