from linea_directa.app import serving_app
app = serving_app()
