from linea_directa.app import create_app
app = create_app()
