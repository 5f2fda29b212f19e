"""`flask`: a minimal view in Flask, the framework's own routing and response."""

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(message="Pong!", framework="flask")
